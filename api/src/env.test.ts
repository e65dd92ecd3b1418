/** Facts the services' defaults share with config files elsewhere: a change to one must follow in the other. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadEnv } from './env.js';

const repoFile = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const directive = (text: string, name: string) => text.match(new RegExp(`^\\s*${name}\\s+(\\S+?);?$`, 'm'))?.[1];

describe('the services’ defaults and the config files', () => {
  const defaults = loadEnv({});

  it('answer every API request before nginx gives up on it', () => {
    const nginxTimeout = directive(repoFile('nginx/snippets/proxy-to-api.conf'), 'proxy_read_timeout');
    expect(nginxTimeout).toMatch(/^\d+s$/);
    expect(defaults.REQUEST_DEADLINE_MS).toBeLessThan(Number(nginxTimeout!.slice(0, -1)) * 1000);
  });

  it('ask for exactly the replicas each Redis primary insists on before it takes a write', () => {
    const conf = repoFile('stack/redis/redis-node.conf');
    expect(Number(directive(conf, 'min-replicas-to-write'))).toBe(defaults.REDIS_MIN_REPLICA_ACKS);
  });
});
