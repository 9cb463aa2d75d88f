// The state machine's layout: layers from the initial state along the declared edges (left to
// right), states in a layer stacked in the order the API lists them, forward edges drawn
// straight across, back edges as arcs below the nodes. Pure and deterministic: the same
// states and edges always give the same picture.

export interface LayoutInputEdge {
  from: string;
  to: string;
  declared: boolean;
}

export interface LayoutOptions {
  nodeW: number;
  nodeH: number;
  gapX: number;
  gapY: number;
  pad: number;
  /** The initial state: layer 0. Defaults to "idle" when present, else the first state. */
  root?: string;
}

export const LAYOUT_DEFAULTS: LayoutOptions = { nodeW: 150, nodeH: 58, gapX: 64, gapY: 30, pad: 16 };

export interface LayoutNode {
  name: string;
  layer: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface LayoutEdge<E extends LayoutInputEdge = LayoutInputEdge> {
  edge: E;
  kind: 'forward' | 'back' | 'same' | 'self';
  /** A cubic Bézier: start, two control points, end. */
  p0: Point;
  c1: Point;
  c2: Point;
  p3: Point;
  /** Where the edge's count goes: the curve's midpoint. */
  label: Point;
}

export interface Layout<E extends LayoutInputEdge = LayoutInputEdge> {
  nodes: LayoutNode[];
  edges: LayoutEdge<E>[];
  width: number;
  height: number;
}

/** Layer of each state: its distance from the root along declared edges; states reached only
 *  by undeclared edges come after, and unreachable ones in a last layer of their own. */
export function assignLayers(names: string[], edges: LayoutInputEdge[], root: string): Map<string, number> {
  const layer = new Map<string, number>();
  const bfs = (starts: string[], use: (e: LayoutInputEdge) => boolean) => {
    const queue = [...starts];
    while (queue.length) {
      const cur = queue.shift()!;
      for (const e of edges) {
        if (e.from !== cur || !use(e) || layer.has(e.to)) continue;
        layer.set(e.to, layer.get(cur)! + 1);
        queue.push(e.to);
      }
    }
  };
  if (names.includes(root)) {
    layer.set(root, 0);
    bfs([root], (e) => e.declared);
    bfs(
      [...layer.keys()].sort((a, b) => layer.get(a)! - layer.get(b)!),
      () => true,
    );
  }
  const last = layer.size ? Math.max(...layer.values()) + 1 : 0;
  for (const n of names) if (!layer.has(n)) layer.set(n, last);
  return layer;
}

const mid = (p0: Point, c1: Point, c2: Point, p3: Point): Point => ({
  x: 0.125 * p0.x + 0.375 * c1.x + 0.375 * c2.x + 0.125 * p3.x,
  y: 0.125 * p0.y + 0.375 * c1.y + 0.375 * c2.y + 0.125 * p3.y,
});

export function layoutStateMachine<E extends LayoutInputEdge>(
  states: string[],
  edges: E[],
  options: Partial<LayoutOptions> = {},
): Layout<E> {
  const o = { ...LAYOUT_DEFAULTS, ...options };
  // Every state once, in the API's order, then any that only edges name (sorted).
  const names: string[] = [];
  for (const s of states) if (!names.includes(s)) names.push(s);
  const extra = new Set<string>();
  for (const e of edges) for (const n of [e.from, e.to]) if (!names.includes(n)) extra.add(n);
  names.push(...[...extra].sort());

  const root = o.root && names.includes(o.root) ? o.root : names.includes('idle') ? 'idle' : names[0];
  const layerOf = assignLayers(names, edges, root);
  const layers: string[][] = [];
  for (const n of names) (layers[layerOf.get(n)!] ??= []).push(n);

  const tallest = Math.max(0, ...layers.map((l) => l?.length ?? 0));
  const bandH = tallest * o.nodeH + Math.max(0, tallest - 1) * o.gapY;
  const nodes: LayoutNode[] = [];
  const byName = new Map<string, LayoutNode>();
  layers.forEach((members, li) => {
    if (!members) return;
    const h = members.length * o.nodeH + (members.length - 1) * o.gapY;
    members.forEach((name, i) => {
      const node = {
        name,
        layer: li,
        x: o.pad + li * (o.nodeW + o.gapX),
        y: o.pad + (bandH - h) / 2 + i * (o.nodeH + o.gapY),
        w: o.nodeW,
        h: o.nodeH,
      };
      nodes.push(node);
      byName.set(name, node);
    });
  });

  const bottom = o.pad + bandH;
  let depth = 0;
  let right = 0;
  const out: LayoutEdge<E>[] = [];
  for (const edge of edges) {
    const a = byName.get(edge.from)!;
    const b = byName.get(edge.to)!;
    let kind: LayoutEdge['kind'];
    let p0: Point, c1: Point, c2: Point, p3: Point;
    if (a === b) {
      kind = 'self';
      p0 = { x: a.x + a.w * 0.65, y: a.y };
      p3 = { x: a.x + a.w * 0.35, y: a.y };
      c1 = { x: p0.x + 18, y: a.y - 36 };
      c2 = { x: p3.x - 18, y: a.y - 36 };
    } else if (b.layer > a.layer) {
      kind = 'forward';
      p0 = { x: a.x + a.w, y: a.y + a.h / 2 };
      p3 = { x: b.x, y: b.y + b.h / 2 };
      const dx = (p3.x - p0.x) / 2;
      c1 = { x: p0.x + dx, y: p0.y };
      c2 = { x: p3.x - dx, y: p3.y };
    } else if (b.layer < a.layer) {
      // Below everything, deeper the further it reaches back, so that arcs nest. The two
      // ends sit left and right of the bottom centre so an arc's start and another's end
      // do not meet.
      kind = 'back';
      const span = a.layer - b.layer;
      const dy = 28 + 22 * span;
      p0 = { x: a.x + a.w * 0.4, y: a.y + a.h };
      p3 = { x: b.x + b.w * 0.6, y: b.y + b.h };
      c1 = { x: p0.x, y: bottom + dy };
      c2 = { x: p3.x, y: bottom + dy };
      depth = Math.max(depth, 0.75 * dy + (bottom - Math.min(p0.y, p3.y)) * 0.25);
    } else {
      // Same layer: an arc on the right side.
      kind = 'same';
      const span = Math.abs(b.y - a.y) / (o.nodeH + o.gapY);
      p0 = { x: a.x + a.w, y: a.y + a.h * (b.y > a.y ? 0.7 : 0.3) };
      p3 = { x: b.x + b.w, y: b.y + b.h * (b.y > a.y ? 0.3 : 0.7) };
      c1 = { x: p0.x + 24 + 12 * span, y: p0.y };
      c2 = { x: p3.x + 24 + 12 * span, y: p3.y };
      right = Math.max(right, c1.x);
    }
    out.push({ edge, kind, p0, c1, c2, p3, label: mid(p0, c1, c2, p3) });
  }

  const nodesRight = o.pad + layers.length * o.nodeW + Math.max(0, layers.length - 1) * o.gapX;
  // Room for the same-layer arcs on the right (a Bézier reaches 3/4 of its control points).
  const width = Math.ceil(Math.max(nodesRight, nodesRight + 0.75 * (right - nodesRight)) + o.pad);
  const selfRoom = out.some((e) => e.kind === 'self') ? 36 : 0;
  if (selfRoom) for (const n of nodes) n.y += selfRoom;
  if (selfRoom) for (const e of out) for (const p of [e.p0, e.c1, e.c2, e.p3, e.label]) p.y += selfRoom;
  const height = Math.ceil(bottom + selfRoom + depth + o.pad + 12);
  return { nodes, edges: out, width, height };
}

/** An edge's SVG path. */
export function edgePath(e: Pick<LayoutEdge, 'p0' | 'c1' | 'c2' | 'p3'>): string {
  const f = (p: Point) => `${Math.round(p.x * 10) / 10},${Math.round(p.y * 10) / 10}`;
  return `M${f(e.p0)} C${f(e.c1)} ${f(e.c2)} ${f(e.p3)}`;
}
