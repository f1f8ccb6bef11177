import { describe, it, expect } from 'vitest';
import { IoError } from '../shared/errors.ts';
import { connectError } from './connections.ts';

describe('connectError', () => {
  const url = 'mqtt://127.0.0.1:1883';

  it('names refused credentials (CONNACK 4 and 5) with a fix', () => {
    for (const code of [4, 5]) {
      const err = connectError(Object.assign(new Error('Connection refused: Bad username or password'), { code }), url);
      expect(err).toBeInstanceOf(IoError);
      expect(err.code).toBe('SIM_BROKER_AUTH');
      expect(err.message).toMatch(/refused the credentials.*at mqtt:\/\/127\.0\.0\.1:1883; fix: check --username and --password/);
    }
  });

  it('names an unreachable broker by its socket error, as retryable', () => {
    const err = connectError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1883'), { code: 'ECONNREFUSED' }), url);
    expect(err.code).toBe('SIM_BROKER_DOWN');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/cannot reach the broker \(ECONNREFUSED\)/);
  });

  it('keeps the message of any other failure', () => {
    const err = connectError(new Error('connack timeout'), url);
    expect(err.code).toBe('SIM_BROKER_ERROR');
    expect(err.message).toMatch(/connection failed: connack timeout/);
  });
});
