/**
 * JSON schemas for kubeconform, made offline from the sources the objects
 * are defined by (kubeconform would download them from GitHub, which the
 * build machines cannot reach):
 *
 * - Kubernetes' own kinds: api/openapi-spec/swagger.json of the Kubernetes
 *   release (the module k8s.io/kubernetes@v<KUBERNETES_VERSION>, through the Go
 *   module proxy). It is the spec the API server publishes and the one
 *   kubeconform's usual schemas (yannh/kubernetes-json-schema) are made from,
 *   with openapi2jsonschema; this does the same conversion.
 * - Custom resources: the CRD the operator itself installs, from its module
 *   (github.com/grafana/k6-operator@K6_OPERATOR_VERSION,
 *   config/crd/bases/k6.io_testruns.yaml): its openAPIV3Schema, converted.
 *
 * Both are "strict" (kubeconform -strict): an object with declared
 * properties takes no others, so a misspelt field fails. The conversion
 * follows what the API server accepts rather than the letter of the spec in
 * two places, as openapi2jsonschema does: a Quantity (`cpu: 1` or `"250m"`)
 * and an IntOrString are a string or a number, and a field that is not
 * required may be null (the server treats null as unset).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { TOOLS_DIR, goModuleDir, type Say } from './go-tools.js';

/** The Kubernetes release the objects are checked against. */
export const KUBERNETES_VERSION = '1.37.2';
/** k6-operator: the newest version the Go module proxy serves (v0.0.20 and later answer 403 there). */
export const K6_OPERATOR_VERSION = 'v0.0.19';
/** The CRDs of objects in k8s/, by the module that ships them. */
export const CRD_SOURCES = [{ module: 'github.com/grafana/k6-operator', version: K6_OPERATOR_VERSION, file: 'config/crd/bases/k6.io_testruns.yaml' }];

/** Bump when the conversion changes, so cached schemas are made again. */
const CONVERSION = 2;

type Json = Record<string, unknown>;
type Schema = Json;

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const REF_PREFIX = '#/definitions/';

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

// A JSON pointer takes it as it is (a '~' would need escaping).
const NULLABLE = '.nullable';

/**
 * A field that is not required may be given as null. A reference becomes one
 * to the definition's nullable twin (made in closure()), rather than a oneOf
 * around it, so a problem deeper inside is reported as itself.
 */
function nullable(schema: Schema, refs?: Set<string>): Schema {
  if (typeof schema.$ref === 'string' && refs) {
    const name = `${schema.$ref.slice(REF_PREFIX.length)}${NULLABLE}`;
    refs.add(name);
    return { $ref: `${REF_PREFIX}${name}` };
  }
  if (typeof schema.type === 'string') {
    return { ...schema, type: [schema.type, 'null'], ...(Array.isArray(schema.enum) ? { enum: [...schema.enum, null] } : {}) };
  }
  if (Array.isArray(schema.type)) return schema.type.includes('null') ? schema : { ...schema, type: [...schema.type, 'null'] };
  if (Array.isArray(schema.oneOf) && Object.keys(schema).length === 1) return { oneOf: [...schema.oneOf, { type: 'null' }] };
  return { oneOf: [schema, { type: 'null' }] };
}

/** What JSON Schema draft 4 keeps of an OpenAPI v2 schema: validation keywords, no descriptions or x- extensions. */
const KEEP = new Set(['type', 'format', 'enum', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'multipleOf']);

/** One Kubernetes OpenAPI v2 schema as strict JSON Schema; `refs` collects the definitions it names. */
export function fromOpenApiV2(node: Schema, refs: Set<string>): Schema {
  if (typeof node.$ref === 'string') {
    refs.add(node.$ref.slice(REF_PREFIX.length));
    return { $ref: node.$ref };
  }
  if (node.format === 'int-or-string') return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) if (KEEP.has(key)) out[key] = value;
  if (isObject(node.items)) out.items = fromOpenApiV2(node.items, refs);
  if (isObject(node.additionalProperties)) out.additionalProperties = fromOpenApiV2(node.additionalProperties, refs);
  else if (typeof node.additionalProperties === 'boolean') out.additionalProperties = node.additionalProperties;
  if (isObject(node.properties)) {
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    out.properties = Object.fromEntries(
      Object.entries(node.properties as Record<string, Schema>).map(([name, property]) => {
        const converted = fromOpenApiV2(property, refs);
        return [name, required.has(name) ? converted : nullable(converted, refs)];
      }),
    );
    if (required.size) out.required = [...required];
    if (out.additionalProperties === undefined) out.additionalProperties = false;
  }
  return out;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** The file kubeconform looks for: its schemaPath, `{{ .ResourceKind }}{{ .KindSuffix }}.json` (deployment-apps-v1.json, service-v1.json). */
export function kubeconformFileName({ group, version, kind }: GroupVersionKind): string {
  return `${kind.toLowerCase()}${group ? `-${group.split('.')[0]!.toLowerCase()}` : ''}-${version.toLowerCase()}.json`;
}

/** Every definition `names` reaches, converted, by name. */
function closure(definitions: Record<string, Schema>, names: Iterable<string>, converted: Map<string, { schema: Schema; refs: Set<string> }>): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const queue = [...names];
  while (queue.length) {
    const name = queue.pop()!;
    if (name in out) continue;
    const entry = convertDefinition(definitions, name, converted);
    out[name] = entry.schema;
    queue.push(...entry.refs);
  }
  return out;
}

function convertDefinition(definitions: Record<string, Schema>, name: string, converted: Map<string, { schema: Schema; refs: Set<string> }>) {
  let entry = converted.get(name);
  if (!entry) {
    if (name.endsWith(NULLABLE)) {
      const base = name.slice(0, -NULLABLE.length);
      convertDefinition(definitions, base, converted);
      // The twin is the definition itself, plus null: what it refers to is what the definition refers to.
      entry = { schema: nullable({ $ref: `${REF_PREFIX}${base}` }), refs: new Set([base]) };
      const baseSchema = converted.get(base)!.schema;
      if (typeof baseSchema.type === 'string' || Array.isArray(baseSchema.type) || Array.isArray(baseSchema.oneOf)) {
        entry = { schema: nullable(baseSchema), refs: converted.get(base)!.refs };
      }
    } else {
      const definition = definitions[name];
      if (!definition) throw new Error(`swagger.json refers to ${name}, which it does not define`);
      const refs = new Set<string>();
      // Quantity: `cpu: 1` and `cpu: "250m"` alike (its JSON decoder takes both).
      const schema = name === QUANTITY ? { oneOf: [{ type: 'string' }, { type: 'number' }] } : fromOpenApiV2(definition, refs);
      entry = { schema, refs };
    }
    converted.set(name, entry);
  }
  return entry;
}

/**
 * One standalone schema per kind of the spec (per group, version and kind
 * the spec names), each carrying the definitions it refers to, by the file
 * name kubeconform looks for.
 */
export function kubernetesSchemas(swagger: { definitions: Record<string, Schema> }): Map<string, Schema> {
  const converted = new Map<string, { schema: Schema; refs: Set<string> }>();
  const files = new Map<string, Schema>();
  const owner = new Map<string, string>();
  for (const [name, definition] of Object.entries(swagger.definitions)) {
    const kinds = definition['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
    if (!kinds) continue;
    for (const gvk of kinds) {
      const file = kubeconformFileName(gvk);
      // The same file name from two definitions would make one of them unreachable.
      const previous = owner.get(file);
      if (previous && previous !== name) throw new Error(`${file}: both ${previous} and ${name}`);
      owner.set(file, name);
      const { schema, refs } = convertDefinition(swagger.definitions, name, converted);
      files.set(file, { ...schema, definitions: closure(swagger.definitions, refs, converted) });
    }
  }
  return files;
}

/** One CRD openAPIV3Schema node as strict JSON Schema draft 4. */
export function fromOpenApiV3(node: Schema): Schema {
  if (node['x-kubernetes-int-or-string'] === true) {
    const string: Schema = { type: 'string' };
    if (typeof node.pattern === 'string') string.pattern = node.pattern;
    return wrapNullable(node, { oneOf: [string, { type: 'integer' }] });
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) if (KEEP.has(key)) out[key] = value;
  for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(node[key])) out[key] = (node[key] as Schema[]).map(fromOpenApiV3);
  }
  if (isObject(node.not)) out.not = fromOpenApiV3(node.not);
  if (isObject(node.items)) out.items = fromOpenApiV3(node.items);
  if (isObject(node.additionalProperties)) out.additionalProperties = fromOpenApiV3(node.additionalProperties);
  else if (typeof node.additionalProperties === 'boolean') out.additionalProperties = node.additionalProperties;
  if (isObject(node.properties)) {
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    out.properties = Object.fromEntries(
      Object.entries(node.properties as Record<string, Schema>).map(([name, property]) => {
        const converted = fromOpenApiV3(property);
        return [name, required.has(name) || property.nullable === true ? converted : nullable(converted)];
      }),
    );
    if (required.size) out.required = [...required];
    // Unknown fields are kept only where the CRD says so; elsewhere the server drops them, and strict mode refuses them.
    if (out.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  }
  return wrapNullable(node, out);
}

const wrapNullable = (node: Schema, schema: Schema) => (node.nullable === true ? nullable(schema) : schema);

/**
 * The schemas of a CRD's versions, by kubeconform's path for them
 * (`{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`); metadata is
 * the API server's ObjectMeta, as for every object.
 */
export function crdSchemas(crd: Json, swagger: { definitions: Record<string, Schema> }): Map<string, Schema> {
  const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; served: boolean; schema?: { openAPIV3Schema?: Schema } }[] };
  const objectMeta = closure(swagger.definitions, [OBJECT_META], new Map());
  const files = new Map<string, Schema>();
  for (const version of spec.versions) {
    const root = version.schema?.openAPIV3Schema;
    if (!version.served || !root) continue;
    const schema = fromOpenApiV3(root);
    const properties = { ...(schema.properties as Record<string, Schema>), metadata: { $ref: `${REF_PREFIX}${OBJECT_META}` } };
    files.set(`${spec.group}/${spec.names.kind.toLowerCase()}_${version.name}.json`, { ...schema, properties, definitions: objectMeta });
  }
  return files;
}

export interface SchemaLocations {
  /** kubeconform -schema-location for Kubernetes' kinds (it appends its own path template). */
  kubernetes: string;
  /** kubeconform -schema-location for custom resources. */
  crds: string;
  /** How many schema files of each. */
  counts: { kubernetes: number; crds: number };
}

function locations(root: string): SchemaLocations {
  const count = JSON.parse(readFileSync(join(root, 'counts.json'), 'utf8')) as SchemaLocations['counts'];
  return {
    kubernetes: join(root, 'kubernetes'),
    crds: join(root, 'crds/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'),
    counts: count,
  };
}

let schemas: Promise<SchemaLocations> | null = null;

/**
 * The schema folders, made first if this combination of versions and
 * conversion has not been made before (.flash/tools/schemas/<key>, written
 * to a scratch folder and renamed, so a half-made cache never counts).
 */
export function ensureSchemas(say: Say = (line) => process.stdout.write(`${line}\n`)): Promise<SchemaLocations> {
  schemas ??= (async () => {
    const key = `k8s-v${KUBERNETES_VERSION}-${CRD_SOURCES.map((c) => `${c.module.split('/').pop()}-${c.version}`).join('-')}-c${CONVERSION}`;
    const root = join(TOOLS_DIR, 'schemas', key);
    if (existsSync(join(root, 'counts.json'))) return locations(root);

    say(`==> JSON schemas for kubeconform (${key}): from k8s.io/kubernetes@v${KUBERNETES_VERSION} and ${CRD_SOURCES.map((c) => `${c.module}@${c.version}`).join(', ')}`);
    say('    (once: the Kubernetes module is about 22 MB through the Go module proxy; later runs reuse the schemas)');
    const started = Date.now();
    const kubernetesDir = await goModuleDir('k8s.io/kubernetes', `v${KUBERNETES_VERSION}`);
    const swagger = JSON.parse(readFileSync(join(kubernetesDir, 'api/openapi-spec/swagger.json'), 'utf8')) as { definitions: Record<string, Schema> };
    const kubernetes = kubernetesSchemas(swagger);
    const crds = new Map<string, Schema>();
    for (const source of CRD_SOURCES) {
      const dir = await goModuleDir(source.module, source.version);
      for (const doc of parseAllDocuments(readFileSync(join(dir, source.file), 'utf8'))) {
        const crd = doc.toJS() as Json | null;
        if (crd?.kind === 'CustomResourceDefinition') for (const [path, schema] of crdSchemas(crd, swagger)) crds.set(path, schema);
      }
    }
    if (!crds.size) throw new Error(`no CustomResourceDefinition in ${CRD_SOURCES.map((c) => c.file).join(', ')}`);

    mkdirSync(dirname(root), { recursive: true });
    const scratch = mkdtempSync(`${root}.tmp-`);
    try {
      const kubernetesOut = join(scratch, 'kubernetes', `v${KUBERNETES_VERSION}-standalone-strict`);
      mkdirSync(kubernetesOut, { recursive: true });
      for (const [file, schema] of kubernetes) writeFileSync(join(kubernetesOut, file), JSON.stringify(schema));
      for (const [path, schema] of crds) {
        mkdirSync(dirname(join(scratch, 'crds', path)), { recursive: true });
        writeFileSync(join(scratch, 'crds', path), JSON.stringify(schema));
      }
      writeFileSync(join(scratch, 'counts.json'), JSON.stringify({ kubernetes: kubernetes.size, crds: crds.size }));
      try {
        renameSync(scratch, root);
      } catch (error) {
        // Another run made them meanwhile: theirs are as good.
        if (!existsSync(join(root, 'counts.json'))) throw error;
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    say(`    ${kubernetes.size} Kubernetes and ${crds.size} custom resource schemas in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return locations(root);
  })().catch((error: unknown) => {
    schemas = null;
    throw error;
  });
  return schemas;
}
