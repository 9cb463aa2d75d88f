import { describe, expect, it } from 'vitest';
import { allowedActions, can, parseRole } from './roles';

describe('can', () => {
  it('lets a viewer only read', () => {
    expect(can('viewer', 'view')).toBe(true);
    expect(can('viewer', 'events.annotate')).toBe(false);
    expect(can('viewer', 'alerts.acknowledge')).toBe(false);
    expect(can('viewer', 'alerts.silence')).toBe(false);
    expect(can('viewer', 'rules.reload')).toBe(false);
    expect(can('viewer', 'receivers.test')).toBe(false);
    expect(can('viewer', 'engine.control')).toBe(false);
  });
  it('lets an editor annotate, acknowledge, silence, reload and test receivers, but not control the engine', () => {
    expect(can('editor', 'view')).toBe(true);
    expect(can('editor', 'events.annotate')).toBe(true);
    expect(can('editor', 'alerts.acknowledge')).toBe(true);
    expect(can('editor', 'alerts.silence')).toBe(true);
    expect(can('editor', 'rules.reload')).toBe(true);
    expect(can('editor', 'receivers.test')).toBe(true);
    expect(can('editor', 'engine.control')).toBe(false);
    expect(can('editor', 'tokens.manage')).toBe(false);
  });
  it('lets an admin do everything', () => {
    expect(can('admin', 'events.annotate')).toBe(true);
    expect(allowedActions('admin')).toEqual([
      'view',
      'events.annotate',
      'alerts.acknowledge',
      'alerts.silence',
      'rules.reload',
      'receivers.test',
      'engine.control',
      'tokens.manage',
    ]);
  });
  it('lets an unknown role do nothing', () => {
    expect(can(null, 'view')).toBe(false);
    expect(can(undefined, 'view')).toBe(false);
    expect(can(null, 'events.annotate')).toBe(false);
    expect(allowedActions(null)).toEqual([]);
  });
});

describe('parseRole', () => {
  it('accepts only the three roles', () => {
    expect(parseRole('editor')).toBe('editor');
    expect(parseRole('root')).toBeNull();
    expect(parseRole(3)).toBeNull();
  });
});
