/**
 * Facts the services' defaults share with config files elsewhere: a change to
 * one side must follow on the other, or this fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../api/src/env.js';
import { PURCHASE_PRECEDENCE } from '../../api/src/features/flash-sale/flash-sale.logic.js';
import { loadStackConfig } from './config.js';
import { generatedNginxFiles } from './nginx-config.js';
import { withBenchSettings, withConfiguration } from './readme-config.js';

const repoFile = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
/** The value of an nginx or Redis directive: `name value` or `name value;`. */
const directive = (text: string, name: string) => text.match(new RegExp(`^\\s*${name}\\s+(\\S+?);?$`, 'm'))?.[1];
const bytes = (size: string) => {
  const [, amount, unit] = /^(\d+)(mb|gb|Mi|Gi)$/.exec(size) ?? [];
  const scale = { mb: 2 ** 20, Mi: 2 ** 20, gb: 2 ** 30, Gi: 2 ** 30 }[unit as 'mb'];
  if (!amount || !scale) throw new Error(`not a size: ${size}`);
  return Number(amount) * scale;
};

describe('the services’ defaults and the config files', () => {
  const defaults = loadEnv({});
  const redisConf = repoFile('stack/redis/redis-node.conf');

  it('point at the local shop’s Redis, as npm start runs it', () => {
    const shop = loadStackConfig({});
    expect(defaults.REDIS_NODES).toEqual(shop.redisNodes.slice(0, defaults.REDIS_NODES.length));
  });

  it('answer every API request before nginx gives up on it', () => {
    const nginxTimeout = directive(repoFile('nginx/snippets/proxy-to-api.conf'), 'proxy_read_timeout');
    expect(nginxTimeout).toMatch(/^\d+s$/);
    expect(defaults.REQUEST_DEADLINE_MS).toBeLessThan(Number(nginxTimeout!.slice(0, -1)) * 1000);
  });

  it('ask for exactly the replicas each Redis primary insists on before it takes a write', () => {
    expect(Number(directive(redisConf, 'min-replicas-to-write'))).toBe(defaults.REDIS_MIN_REPLICA_ACKS);
  });

  it('give each Redis container twice its maxmemory, room for an AOF rewrite', () => {
    const limit = /limits:\s*\n\s*memory:\s*(\S+)/.exec(repoFile('k8s/redis.yaml'))?.[1];
    expect(bytes(limit!)).toBeGreaterThanOrEqual(2 * bytes(directive(redisConf, 'maxmemory')!));
  });
});

describe('nginx’s copies of the API’s facts', () => {
  it.each(Object.entries(generatedNginxFiles()))('%s is what npm run generate writes', (path, content) => {
    expect(repoFile(path), `${path} is out of date: run npm run generate`).toBe(content);
  });

  it('are all shipped to Kubernetes, with every other snippet', () => {
    const kustomization = repoFile('k8s/kustomization.yaml');
    for (const snippet of readdirSync(new URL('../../nginx/snippets', import.meta.url))) {
      expect(kustomization).toContain(`${snippet}=../nginx/snippets/${snippet}`);
    }
  });
});

describe('the README', () => {
  it('states the purchase precedence the script keeps', () => {
    expect(repoFile('README.md')).toContain(PURCHASE_PRECEDENCE.map((code) => `\`${code}\``).join(' → '));
  });

  it('documents every setting as the schemas define it', () => {
    const readme = repoFile('README.md');
    expect(readme, 'README.md is out of date: run npm run generate').toBe(withConfiguration(readme));
  });

  it('of the load tests documents every benchmark setting as its schema defines it', () => {
    const readme = repoFile('loadtest/README.md');
    expect(readme, 'loadtest/README.md is out of date: run npm run generate').toBe(withBenchSettings(readme));
  });
});

describe('the local stack’s settings', () => {
  it.each([
    [{ NGINX_PORT: 'eighty' }, /NGINX_PORT/],
    [{ API_REPLICAS: '0' }, /API_REPLICAS/],
    [{ REDIS_PASSWORD: 'short' }, /REDIS_PASSWORD: must be at least 16 printable characters/],
  ])('refuse %j with the name of what is wrong', (source, message) => {
    expect(() => loadStackConfig(source)).toThrow(message);
  });
});
