/**
 * The contract between the API and the shopper's page: the page's own zod
 * schemas (web/src/features/flash-sale/api/schemas.ts) must accept what the
 * API answers, and must not expect anything the API's OpenAPI document does
 * not promise. Both sides are checked against the real app, in process.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  AlreadyPurchasedDetailsSchema,
  ErrorEnvelopeSchema,
  PurchaseConfirmedSchema,
  PurchaseLookupSchema,
  SaleSchema,
  envelope,
} from '../../web/src/features/flash-sale/api/schemas.js';
import { scriptedApp } from './testing/scripted-app.js';
import { SCRIPTED_SALE, type Script } from './testing/scripted-store.js';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
};

const appWith = (script: Partial<Script> = {}) => scriptedApp(script).app;

const document = async () =>
  (await (await appWith().request('/api/v1/openapi.json')).json()) as { components: { schemas: Record<string, JsonSchema> } };

/** Follows a $ref into the document's components. */
const resolve = (schema: JsonSchema, components: Record<string, JsonSchema>): JsonSchema =>
  schema.$ref ? resolve(components[schema.$ref.split('/').pop()!]!, components) : schema;

const typesOf = (schema: JsonSchema): Set<string> => {
  if (schema.anyOf ?? schema.oneOf) return new Set((schema.anyOf ?? schema.oneOf)!.flatMap((s) => [...typesOf(s)]));
  if (schema.const !== undefined) return new Set([schema.const === null ? 'null' : typeof schema.const]);
  const types = [schema.type ?? []].flat();
  return new Set(types.map((t) => (t === 'integer' ? 'number' : t)));
};

/**
 * What the page expects of an object, against what the document promises:
 * every field the page requires is required by the document, no field the
 * page reads is unknown to it, types agree, and every enum value the API may
 * send is one the page knows.
 */
function expectPageFits(page: JsonSchema, api: JsonSchema, components: Record<string, JsonSchema>, where: string) {
  const promised = resolve(api, components);
  for (const required of page.required ?? []) {
    expect(promised.required ?? [], `${where}: the page requires ${required}`).toContain(required);
  }
  for (const [name, field] of Object.entries(page.properties ?? {})) {
    const sent = promised.properties?.[name];
    expect(sent, `${where}.${name}: the page reads a field the API does not send`).toBeDefined();
    const apiField = resolve(sent!, components);
    const pageTypes = typesOf(field);
    if (pageTypes.size > 0) {
      for (const type of typesOf(apiField)) expect([...pageTypes], `${where}.${name}: the API may send ${type}`).toContain(type);
    }
    const apiValues = apiField.enum ?? (apiField.anyOf ?? []).flatMap((s) => s.enum ?? []);
    const pageValues = field.enum ?? (field.anyOf ?? []).flatMap((s) => s.enum ?? []);
    if (apiValues.length > 0 && pageValues.length > 0) {
      for (const value of apiValues) {
        // A nullable enum lists null among its values; the page accepts it as a type.
        if (value === null) expect([...pageTypes], `${where}.${name}: the API may send null`).toContain('null');
        else expect(pageValues, `${where}.${name}: the API may send ${String(value)}`).toContain(value);
      }
    }
  }
}

const asJson = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

describe('the page’s schemas against the OpenAPI document', () => {
  it('the sale', async () => {
    const { components } = await document();
    expectPageFits(asJson(SaleSchema), components.schemas.Sale!, components.schemas, 'Sale');
  });

  it('a confirmed purchase', async () => {
    const { components } = await document();
    const api = components.schemas.PurchaseConfirmed!.properties!.data!;
    expectPageFits(asJson(PurchaseConfirmedSchema), api, components.schemas, 'PurchaseConfirmed');
  });

  it('a lookup, in both of its shapes', async () => {
    const { components } = await document();
    const apiShapes = resolve(components.schemas.PurchaseLookup!.properties!.data!, components.schemas).anyOf!;
    const pageShapes = asJson(PurchaseLookupSchema).oneOf ?? asJson(PurchaseLookupSchema).anyOf!;
    expect(pageShapes).toHaveLength(apiShapes.length);
    pageShapes.forEach((shape, i) => expectPageFits(shape, apiShapes[i]!, components.schemas, `PurchaseLookup[${i}]`));
  });

  it('an error', async () => {
    const { components } = await document();
    const apiError = components.schemas.Error!.properties!.error!;
    expectPageFits(asJson(ErrorEnvelopeSchema).properties!.error!, apiError, components.schemas, 'Error.error');
  });
});

describe('the page’s schemas against what the API answers', () => {
  it('parse the sale', async () => {
    const answer = await (await appWith().request('/api/v1/flash-sales/current')).json();
    expect(envelope(SaleSchema).parse(answer).data.id).toBe(SCRIPTED_SALE.id);
  });

  it('parse a confirmed purchase, and an already purchased one with its details', async () => {
    const buy = (app: ReturnType<typeof appWith>) =>
      app.request('/api/v1/flash-sales/current/purchase', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'ann' }),
      });
    expect(envelope(PurchaseConfirmedSchema).parse(await (await buy(appWith())).json()).data.status).toBe('confirmed');
    const original = '00000000-0000-4000-8000-0000000000aa';
    const repeat = await buy(appWith({ claim: async () => ({ kind: 'ALREADY_PURCHASED', purchaseId: original, purchasedAtMs: 0 }) }));
    const { error } = ErrorEnvelopeSchema.parse(await repeat.json());
    expect(AlreadyPurchasedDetailsSchema.parse(error.details).purchaseId).toBe(original);
  });

  it('parse both answers of a lookup', async () => {
    const lookup = (script: Partial<Script>) => appWith(script).request('/api/v1/flash-sales/current/purchase?userId=ann');
    const none = envelope(PurchaseLookupSchema).parse(await (await lookup({})).json());
    expect(none.data.purchased).toBe(false);
    const found = await lookup({ lookup: async () => ({ kind: 'FOUND', purchaseId: SCRIPTED_SALE.id, purchasedAtMs: 0, unit: 1 }) });
    expect(envelope(PurchaseLookupSchema).parse(await found.json()).data.purchased).toBe(true);
  });
});
