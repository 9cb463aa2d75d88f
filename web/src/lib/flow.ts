// The process flow's display: the pipeline's eight stages in order, with the text each shows.
import type { FlowStage } from '../api/types';
import { DASH, formatCount, formatDurationMs, formatRatio } from './format';

export const FLOW_STAGES = ['feed', 'scan', 'signal', 'confirm', 'risk', 'execute', 'manage', 'close'] as const;

export const STAGE_HINT: Record<string, string> = {
  feed: 'market messages processed',
  scan: 'market scans',
  signal: 'breakout signals',
  confirm: 'signals confirmed',
  risk: 'entries sized and sent',
  execute: 'entries filled',
  manage: 'positions managed',
  close: 'positions closed',
};

export interface StageView {
  stage: string;
  count: number | null;
  countText: string;
  /** From the previous stage, "64 %", or "—" for the first stage or an unknown one. */
  conversionText: string;
  latencyText: string;
  /** 0–1: the stage's bar, on a log scale relative to the largest count. */
  bar: number;
  /** Conversion below `lowConversion` (and the stage is past the scan): worth a look. */
  low: boolean;
}

/** The eight stages in pipeline order, whatever order (or subset) the API sent. */
export function flowView(stages: FlowStage[], lowConversion = 0.5): StageView[] {
  const by = new Map(stages.map((s) => [s.stage, s]));
  const max = Math.max(1, ...stages.map((s) => s.count ?? 0));
  return FLOW_STAGES.map((name, i) => {
    const s = by.get(name);
    const count = s?.count ?? null;
    const conv = i === 0 ? null : (s?.conversion ?? null);
    return {
      stage: name,
      count,
      countText: formatCount(count),
      conversionText: conv === null ? DASH : formatRatio(conv),
      latencyText: formatDurationMs(s?.latency_ms ?? null),
      bar: count && count > 0 ? Math.log10(count + 1) / Math.log10(max + 1) : 0,
      low: conv !== null && i > 2 && conv < lowConversion,
    };
  });
}
