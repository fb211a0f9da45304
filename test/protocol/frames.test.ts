import { describe, expect, it } from 'vitest';
import { nodePayload } from '../../gateway/openclaw/protocol/frames.js';

describe("a node's payload (node.event, node.invoke.result)", () => {
  it('takes payload, else parses payloadJSON, and keeps a payloadJSON that is not JSON as text', () => {
    expect(nodePayload({ payload: { a: 1 }, payloadJSON: '{"b":2}' })).toEqual({ a: 1 });
    expect(nodePayload({ payloadJSON: '{"b":2}' })).toEqual({ b: 2 });
    expect(nodePayload({ payloadJSON: 'not json' })).toBe('not json');
    expect(nodePayload({})).toBeUndefined();
  });
});
