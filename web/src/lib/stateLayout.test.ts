import { describe, expect, it } from 'vitest';
import { assignLayers, edgePath, layoutStateMachine, type LayoutNode } from './stateLayout';

// The engine's states and declared edges (src/engine/state.c), plus one unexpected transition.
const STATES = ['idle', 'scanning', 'signal_wait', 'managing', 'halted'];
const EDGES = [
  { from: 'idle', to: 'scanning', declared: true },
  { from: 'scanning', to: 'signal_wait', declared: true },
  { from: 'signal_wait', to: 'scanning', declared: true },
  { from: 'signal_wait', to: 'managing', declared: true },
  { from: 'signal_wait', to: 'halted', declared: true },
  { from: 'managing', to: 'scanning', declared: true },
  { from: 'managing', to: 'signal_wait', declared: true },
  { from: 'managing', to: 'halted', declared: true },
  { from: 'halted', to: 'idle', declared: true },
  { from: 'scanning', to: 'halted', declared: false },
];

const overlap = (a: LayoutNode, b: LayoutNode) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

const onBorder = (n: LayoutNode, p: { x: number; y: number }) => {
  const inX = p.x >= n.x - 1e-9 && p.x <= n.x + n.w + 1e-9;
  const inY = p.y >= n.y - 1e-9 && p.y <= n.y + n.h + 1e-9;
  const edgeX = Math.abs(p.x - n.x) < 1e-9 || Math.abs(p.x - n.x - n.w) < 1e-9;
  const edgeY = Math.abs(p.y - n.y) < 1e-9 || Math.abs(p.y - n.y - n.h) < 1e-9;
  return inX && inY && (edgeX || edgeY);
};

describe('assignLayers', () => {
  it('layers states by their distance along declared edges', () => {
    const l = assignLayers(STATES, EDGES, 'idle');
    expect(Object.fromEntries(l)).toEqual({ idle: 0, scanning: 1, signal_wait: 2, managing: 3, halted: 3 });
  });
  it('uses undeclared edges only for states nothing declared reaches, and puts the rest last', () => {
    const l = assignLayers(
      ['a', 'b', 'c', 'z'],
      [
        { from: 'a', to: 'b', declared: true },
        { from: 'b', to: 'c', declared: false },
      ],
      'a',
    );
    expect(Object.fromEntries(l)).toEqual({ a: 0, b: 1, c: 2, z: 3 });
  });
});

describe('layoutStateMachine', () => {
  const layout = layoutStateMachine(STATES, EDGES);

  it('places the engine states left to right with the declared positions', () => {
    const pos = Object.fromEntries(layout.nodes.map((n) => [n.name, [n.x, n.y]]));
    expect(pos).toEqual({
      idle: [16, 60],
      scanning: [230, 60],
      signal_wait: [444, 60],
      managing: [658, 16],
      halted: [658, 104],
    });
    // The nodes' extent plus room for the managing → halted arc on the right.
    expect(layout.width).toBe(16 + 4 * 150 + 3 * 64 + 27 + 16);
    expect(layout.height).toBeGreaterThan(162);
  });

  it('is deterministic', () => {
    expect(layoutStateMachine(STATES, EDGES)).toEqual(layout);
    expect(
      layoutStateMachine(
        [...STATES],
        EDGES.map((e) => ({ ...e })),
      ),
    ).toEqual(layout);
  });

  it('never overlaps nodes', () => {
    const many = Array.from({ length: 12 }, (_, i) => `s${i}`);
    const edges = many.slice(1).map((to, i) => ({ from: i % 3 === 0 ? 's0' : many[i], to, declared: true }));
    for (const l of [layout, layoutStateMachine(many, edges)]) {
      for (let i = 0; i < l.nodes.length; i++)
        for (let j = i + 1; j < l.nodes.length; j++) expect(overlap(l.nodes[i], l.nodes[j])).toBe(false);
      for (const n of l.nodes) {
        expect(n.x + n.w).toBeLessThanOrEqual(l.width);
        expect(n.y + n.h).toBeLessThanOrEqual(l.height);
      }
      for (const e of l.edges) {
        expect(e.label.x).toBeLessThanOrEqual(l.width);
        expect(e.label.y).toBeLessThanOrEqual(l.height);
      }
    }
  });

  it('gives every edge its two endpoints on the borders of its nodes', () => {
    expect(layout.edges).toHaveLength(EDGES.length);
    const byName = new Map(layout.nodes.map((n) => [n.name, n]));
    for (const e of layout.edges) {
      const a = byName.get(e.edge.from)!;
      const b = byName.get(e.edge.to)!;
      expect(a).toBeDefined();
      expect(b).toBeDefined();
      expect(onBorder(a, e.p0)).toBe(true);
      expect(onBorder(b, e.p3)).toBe(true);
      expect(edgePath(e)).toMatch(/^M[\d.]+,[\d.]+ C[\d.]+,[\d.]+ [\d.]+,[\d.]+ [\d.]+,[\d.]+$/);
    }
    const kinds = Object.fromEntries(layout.edges.map((e) => [`${e.edge.from}>${e.edge.to}`, e.kind]));
    expect(kinds['idle>scanning']).toBe('forward');
    expect(kinds['halted>idle']).toBe('back');
    expect(kinds['managing>scanning']).toBe('back');
    expect(kinds['managing>halted']).toBe('same');
  });

  it('adds states that only an edge names', () => {
    const l = layoutStateMachine(['idle'], [{ from: 'idle', to: 'weird', declared: false }]);
    expect(l.nodes.map((n) => [n.name, n.layer])).toEqual([
      ['idle', 0],
      ['weird', 1],
    ]);
    expect(l.edges[0].kind).toBe('forward');
  });

  it('draws a self transition as a loop above its node', () => {
    const l = layoutStateMachine(['a'], [{ from: 'a', to: 'a', declared: false }]);
    const [n] = l.nodes;
    expect(l.edges[0].kind).toBe('self');
    expect(onBorder(n, l.edges[0].p0)).toBe(true);
    expect(l.edges[0].c1.y).toBeGreaterThanOrEqual(0);
  });

  it('handles no states at all', () => {
    expect(layoutStateMachine([], [])).toEqual({ nodes: [], edges: [], width: 32, height: 44 });
  });
});
