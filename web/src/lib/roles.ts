// Roles and what each may do, as docs/api.md defines them: each role includes the one before.
// The server enforces this on every endpoint; the page only uses it to show what a user may do.

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export type Action =
  | 'view'
  | 'events.annotate'
  | 'alerts.acknowledge'
  | 'alerts.silence'
  | 'rules.reload'
  | 'receivers.test'
  | 'engine.control'
  | 'tokens.manage';

const NEEDS: Record<Action, Role> = {
  view: 'viewer',
  'events.annotate': 'editor',
  'alerts.acknowledge': 'editor',
  'alerts.silence': 'editor',
  'rules.reload': 'editor',
  'receivers.test': 'editor',
  'engine.control': 'admin',
  'tokens.manage': 'admin',
};

export function parseRole(x: unknown): Role | null {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x) ? (x as Role) : null;
}

/** Whether `role` may do `action`. An unknown role (not signed in, whoami unavailable) may
 *  do nothing. */
export function can(role: Role | null | undefined, action: Action): boolean {
  if (!role || !(action in NEEDS)) return false;
  return ROLES.indexOf(role) >= ROLES.indexOf(NEEDS[action]);
}

/** The actions a role may take, for its badge's description. */
export function allowedActions(role: Role | null | undefined): Action[] {
  return (Object.keys(NEEDS) as Action[]).filter((a) => can(role, a));
}
