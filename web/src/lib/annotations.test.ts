import { describe, expect, it } from 'vitest';
import type { MonEvent } from '../api/types';
import { NOTE_MAX, annotationRequest, authorOf, eventFromAnswer, idFromAnswer, noteBytes } from './annotations';

const note: MonEvent = {
  id: 812,
  sim_ms: 1796588520000,
  session_id: 's1',
  type: 'annotation',
  severity: 'info',
  symbol: null,
  correlation_id: null,
  message: 'restarted the feed',
  data: { author: 'alice', role: 'editor' },
};

describe('annotationRequest', () => {
  it('trims the text and attaches the session', () => {
    expect(annotationRequest('  restarted the feed \n', 's1')).toEqual({ text: 'restarted the feed', session: 's1' });
  });
  it('refuses an empty note, a note without a session and one that is too long', () => {
    expect(annotationRequest('   ', 's1')).toEqual({ error: 'Write a note first.' });
    expect(annotationRequest('x', null)).toEqual({ error: 'Choose a session to add the note to.' });
    expect('error' in annotationRequest('x'.repeat(NOTE_MAX + 1), 's1')).toBe(true);
    expect('error' in annotationRequest('x'.repeat(NOTE_MAX), 's1')).toBe(false);
  });
  it('counts UTF-8 bytes, as the server does', () => {
    expect(noteBytes(' é€ ')).toBe(5);
    // 167 euro signs: 167 characters, 501 bytes.
    expect(annotationRequest('€'.repeat(167), 's1')).toEqual({ error: 'A note is at most 500 bytes (this one has 501).' });
    expect('error' in annotationRequest('€'.repeat(166), 's1')).toBe(false);
  });
});

describe('eventFromAnswer', () => {
  it('reads the event itself or wrapped in {"event": …}', () => {
    expect(eventFromAnswer(note)).toBe(note);
    expect(eventFromAnswer({ event: note })).toBe(note);
  });
  it('gives null for anything else', () => {
    expect(eventFromAnswer(null)).toBeNull();
    expect(eventFromAnswer({ id: 3 })).toBeNull();
    expect(eventFromAnswer({ event: { id: '3' } })).toBeNull();
    expect(eventFromAnswer('created')).toBeNull();
  });
});

describe('idFromAnswer', () => {
  it("reads the new event's id", () => {
    expect(idFromAnswer({ id: 812 })).toBe(812);
    expect(idFromAnswer({ id: '812' })).toBeNull();
    expect(idFromAnswer({ id: 0 })).toBeNull();
    expect(idFromAnswer(null)).toBeNull();
  });
});

describe('authorOf', () => {
  it('reads data.author', () => {
    expect(authorOf(note)).toBe('alice');
    expect(authorOf({ data: null })).toBeNull();
    expect(authorOf({ data: { author: '' } })).toBeNull();
    expect(authorOf({ data: { author: 7 } })).toBeNull();
  });
});
