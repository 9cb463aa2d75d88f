// The shapes of docs/api.md. Fields the server may leave out are optional, so that the page
// keeps working against an older or newer breakwatch.

export type SessionStatus = 'running' | 'completed' | 'stopped' | 'halted' | 'crashed';

export interface SessionSummary {
  sim_start_ms?: number;
  sim_end_ms?: number;
  cycles?: number;
  scans?: number;
  signals?: number;
  orders?: number;
  trades?: number;
  wins?: number;
  losses?: number;
  loss_limit_triggers?: number;
  unexpected_transitions?: number;
  bad_messages?: number;
  starting_equity?: number;
  equity?: number;
  pnl?: number;
  positions_open?: number;
  state?: string;
}

export interface Session {
  id: string;
  mode: string;
  status: SessionStatus | string;
  active: boolean;
  started_ms: number;
  ended_ms: number | null;
  config?: { seed?: number; speed?: number; symbols?: string[]; [k: string]: unknown } | null;
  summary: SessionSummary | null;
}

export interface SessionsResponse {
  sessions: Session[];
}

export interface StateStay {
  state: string;
  sim_from_ms: number;
  sim_to_ms: number | null;
}

export interface FlowStage {
  stage: string;
  count: number | null;
  conversion: number | null;
  latency_ms: number | null;
}

export interface Milestone {
  name: string;
  sim_ms: number | null;
}

export interface TradeProgress {
  correlation_id: string;
  symbol: string;
  stage: string;
  steps: Milestone[];
}

export interface SessionDetail {
  session: Session;
  state_timeline: StateStay[];
  process_flow: { stages: FlowStage[] };
  progress: {
    session: {
      sim_start_ms: number | null;
      sim_now_ms: number | null;
      sim_end_ms: number | null;
      fraction: number | null;
      milestones: Milestone[];
    };
    trade: TradeProgress | null;
  };
}

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

export interface Realtime {
  ts_ms: number;
  session_id: string | null;
  engine: string;
  state: string | null;
  sim_time_ms: number | null;
  cpu_percent: number | null;
  memory_percent: number | null;
  memory_bytes: number | null;
  cycle_time_ms: Percentiles | null;
  scan_ms: Percentiles | null;
  order_execution_ms: Percentiles | null;
  message_processing_ms: Percentiles | null;
  scan_rate: number | null;
  signal_rate: number | null;
  equity: number | null;
  daily_pnl: number | null;
  positions_open: number | null;
  risk_budget_remaining: number | null;
  counts?: Record<string, number>;
  sparklines?: Record<string, (number | null)[]>;
}

export type EventType =
  | 'state_change'
  | 'signal'
  | 'order'
  | 'fill'
  | 'close'
  | 'risk'
  | 'error'
  | 'annotation'
  | 'alert'
  | 'notification';
export const EVENT_TYPES: EventType[] = [
  'state_change',
  'signal',
  'order',
  'fill',
  'close',
  'risk',
  'error',
  'annotation',
  'alert',
  'notification',
];

export type Severity = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export const SEVERITIES: Severity[] = ['debug', 'info', 'warning', 'error', 'critical'];

export interface MonEvent {
  id: number;
  sim_ms: number;
  session_id: string;
  type: EventType | string;
  severity: Severity | string;
  symbol: string | null;
  correlation_id: string | null;
  message: string;
  data: Record<string, unknown> | null;
}

export interface EventsResponse {
  events: MonEvent[];
  next: number | null;
}

export interface SMState {
  name: string;
  entries: number;
  dwell_seconds_total: number | null;
  dwell_seconds_mean: number | null;
}

export interface SMEdge {
  from: string;
  to: string;
  declared: boolean;
  meaning: string | null;
  count: number;
}

export interface StateMachine {
  session_id: string | null;
  current: string | null;
  since_sim_ms: number | null;
  states: SMState[];
  edges: SMEdge[];
}

export interface WhoAmI {
  name?: string;
  role: string;
  auth: boolean;
}

// Prometheus HTTP API.
export type Labels = Record<string, string>;
export interface MatrixSeries {
  metric: Labels;
  values: [number, string][];
}
export interface VectorSample {
  metric: Labels;
  value: [number, string];
}
export type PromData =
  | { resultType: 'matrix'; result: MatrixSeries[] }
  | { resultType: 'vector'; result: VectorSample[] }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'string'; result: [number, string] };
export interface PromResponse {
  status: 'success' | 'error';
  data?: PromData;
  errorType?: string;
  error?: string;
  warnings?: string[];
}

/** The server's name for the newest session (the engine's while it runs). */
export const CURRENT = 'current';
