import { describe, expect, it } from 'vitest';
import { TokensError, Users } from './users.js';

describe('Users', () => {
  const users = Users.parse('# comment\n\nalice  aaaaaaaaaaaaaaaa1\nbob bbbbbbbbbbbbbbbb2\n');

  it('maps a bearer token to its user, and nothing else to anyone', () => {
    expect(users.fromHeader('Bearer aaaaaaaaaaaaaaaa1')).toBe('alice');
    expect(users.fromHeader('bearer bbbbbbbbbbbbbbbb2 ')).toBe('bob');
    expect(users.fromHeader('Bearer aaaaaaaaaaaaaaaa')).toBeUndefined();
    expect(users.fromHeader('Basic aaaaaaaaaaaaaaaa1')).toBeUndefined();
    expect(users.fromHeader(undefined)).toBeUndefined();
  });

  it('refuses a bad tokens file naming the line', () => {
    expect(() => Users.parse('alice')).toThrow(
      new TokensError("tokens file line 1: expected 'user token', got 1 fields"),
    );
    expect(() => Users.parse('\nAlice aaaaaaaaaaaaaaaa1')).toThrow(/line 2: user 'Alice' must be lower-case/);
    expect(() => Users.parse('alice short')).toThrow(/line 1: the token of 'alice' is shorter than 16/);
    expect(() => Users.parse('a aaaaaaaaaaaaaaaa1\nb aaaaaaaaaaaaaaaa1')).toThrow(
      /line 2: this token is already given/,
    );
  });
});
