// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import { ProcessFlow } from './ProcessFlow';

describe('ProcessFlow', () => {
  it('shows each stage with its count, conversion and latency', () => {
    render(
      <ProcessFlow
        stages={[
          { stage: 'feed', count: 120000, conversion: null, latency_ms: 0.004 },
          { stage: 'scan', count: 2000, conversion: 0.0167, latency_ms: 0.02 },
          { stage: 'signal', count: 14, conversion: 0.007, latency_ms: null },
          { stage: 'confirm', count: 9, conversion: 0.64, latency_ms: 60000 },
        ]}
      />,
    );
    const feed = screen.getByTestId('stage-feed');
    expect(within(feed).getByTestId('count-feed').textContent).toBe('120k');
    expect(feed.textContent).toContain('4 µs');
    expect(within(feed).queryByTestId('conversion-feed')).toBeNull();
    expect(screen.getByTestId('conversion-scan').textContent).toBe('1.7 %');
    expect(screen.getByTestId('conversion-confirm').textContent).toBe('64 %');
    expect(screen.getByTestId('stage-confirm').textContent).toContain('1 min');
    expect(screen.getByLabelText('conversion from signal: 64 %')).toBeTruthy();
    // Stages the API did not send still show, empty.
    expect(screen.getByTestId('count-close').textContent).toBe('—');
    expect(screen.getAllByRole('listitem')).toHaveLength(8);
  });
});
