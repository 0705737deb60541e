/**
 * Demand control: what an operation may cost before it runs, computed the same way at the gateway
 * (over the supergraph) and in every subgraph (over its own schema), so a subgraph reached directly
 * applies the same bound.
 *
 * The cost model is the one of IBM's GraphQL Cost Directives specification, as Apollo's demand
 * control uses it: an object (composite) field costs 1, a scalar or enum 0, and a list multiplies what
 * it contains by its size. A list's size is, in order: the value of one of its `@listSize`
 * `slicingArguments` (after variables and argument defaults are applied — `first: $n` counts `n`, and
 * a field without `first` counts its default); its `@listSize(assumedSize:)`; `_entities` counts its
 * representations; else `defaultListSize`. A field whose `@listSize(sizedFields:)` names its child
 * lists (a connection's `edges`) multiplies its children by the slicing size instead. Aliased and
 * repeated fields are counted each time (`graphql-query-complexity` walks every selection).
 */
import { createRequire } from "node:module";
import { GraphQLError, Kind, type ConstValueNode, type DocumentNode, type GraphQLSchema } from "graphql";
import type { ComplexityEstimator } from "graphql-query-complexity";

// @apollo/subgraph and @apollo/gateway build their schemas with graphql's CommonJS build; graphql's
// type predicates are `instanceof` checks, so code that inspects those schemas must use that build too
// (the ES module build refuses them as "from another module or realm").
const require = createRequire(import.meta.url);
const { getNamedType, getNullableType, isCompositeType, isInterfaceType, isListType, isObjectType } =
  require("graphql") as typeof import("graphql");
const { getComplexity } = require("graphql-query-complexity") as typeof import("graphql-query-complexity");

/** A field's declared `@listSize` (https://specs.apollo.dev/cost/v0.1). */
export interface ListSize {
  assumedSize?: number;
  slicingArguments?: readonly string[];
  sizedFields?: readonly string[];
}

/** `Type.field` → its `@listSize`. */
export type ListSizes = ReadonlyMap<string, ListSize>;

function constInt(value: ConstValueNode | undefined): number | undefined {
  return value?.kind === Kind.INT ? Number(value.value) : undefined;
}

function constStrings(value: ConstValueNode | undefined): string[] | undefined {
  if (value?.kind !== Kind.LIST) return undefined;
  return value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []));
}

/**
 * Reads every `@listSize` of an SDL document: a subgraph's type definitions or the composed
 * supergraph (composition keeps the directive, imported from the cost spec).
 */
export function listSizesOf(sdl: DocumentNode): ListSizes {
  const sizes = new Map<string, ListSize>();
  for (const definition of sdl.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    ) {
      continue;
    }
    for (const field of definition.fields ?? []) {
      const directive = field.directives?.find((d) => d.name.value === "listSize");
      if (!directive) continue;
      const arg = (name: string) => directive.arguments?.find((a) => a.name.value === name)?.value;
      const assumedSize = constInt(arg("assumedSize"));
      const slicingArguments = constStrings(arg("slicingArguments"));
      const sizedFields = constStrings(arg("sizedFields"));
      sizes.set(`${definition.name.value}.${field.name.value}`, {
        ...(assumedSize === undefined ? {} : { assumedSize }),
        ...(slicingArguments ? { slicingArguments } : {}),
        ...(sizedFields ? { sizedFields } : {}),
      });
    }
  }
  return sizes;
}

/**
 * The list fields of `schema` with no `@listSize`, as `Type.field` (introspection and federation's
 * own `_entities` excepted): each would be costed at the default size, so a test asserts none exist.
 */
export function listFieldsWithoutSize(schema: GraphQLSchema, sizes: ListSizes): string[] {
  const sizedByParent = sizedChildren(schema, sizes);
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__") || !(isObjectType(type) || isInterfaceType(type))) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      if (coordinate === "Query._entities" || !isListType(getNullableType(field.type))) continue;
      if (!sizes.has(coordinate) && !sizedByParent.has(coordinate)) missing.push(coordinate);
    }
  }
  return missing;
}

/** The `Type.field` lists sized by their parent's `@listSize(sizedFields:)` (a connection's `edges`). */
function sizedChildren(schema: GraphQLSchema, sizes: ListSizes): Set<string> {
  const children = new Set<string>();
  for (const [coordinate, size] of sizes) {
    const [typeName = "", fieldName = ""] = coordinate.split(".");
    const parent = schema.getType(typeName);
    if (!parent || !("getFields" in parent)) continue;
    const field = parent.getFields()[fieldName];
    const child = field ? getNamedType(field.type) : undefined;
    for (const name of size.sizedFields ?? []) if (child) children.add(`${child.name}.${name}`);
  }
  return children;
}

/** Options of {@link operationCost}. */
export interface CostOptions {
  schema: GraphQLSchema;
  sizes: ListSizes;
  /** Size of a list with no `@listSize`. Default 100. */
  defaultListSize?: number;
}

/** A cost estimator for `graphql-query-complexity` implementing the model described above. */
export function costEstimator(
  schema: GraphQLSchema,
  sizes: ListSizes,
  defaultListSize = 100,
): ComplexityEstimator {
  const sizedByParent = sizedChildren(schema, sizes);
  return ({ type, field, args, childComplexity }) => {
    const coordinate = `${type.name}.${field.name}`;
    const own = isCompositeType(getNamedType(field.type)) ? 1 : 0;
    const spec = sizes.get(coordinate);
    const slicing = spec?.slicingArguments
      ?.map((name) => args[name] as unknown)
      .find((value): value is number => typeof value === "number");
    if (spec?.sizedFields?.length) {
      // The children named in sizedFields are as long as the slicing argument says.
      return own + Math.max(slicing ?? spec.assumedSize ?? defaultListSize, 0) * childComplexity;
    }
    if (!isListType(getNullableType(field.type)) || sizedByParent.has(coordinate)) {
      return own + childComplexity;
    }
    let size = slicing ?? spec?.assumedSize;
    if (size === undefined && coordinate === "Query._entities") {
      const representations: unknown = args["representations"];
      size = Array.isArray(representations) ? representations.length : undefined;
    }
    return Math.max(size ?? defaultListSize, 0) * (own + childComplexity);
  };
}

/**
 * The cost of the operation `operationName` of `document` with `variables` (see the module comment).
 * @throws GraphQLError BAD_USER_INPUT when the variables do not fit the operation (the request
 *   would fail anyway) or the document has over 10 000 selections.
 */
export function operationCost(
  options: CostOptions & {
    document: DocumentNode;
    operationName?: string | undefined;
    variables?: Record<string, unknown> | undefined;
  },
): number {
  try {
    return getComplexity({
      schema: options.schema,
      query: options.document,
      ...(options.operationName ? { operationName: options.operationName } : {}),
      variables: options.variables ?? {},
      estimators: [costEstimator(options.schema, options.sizes, options.defaultListSize)],
      maxQueryNodes: 10_000,
    });
  } catch (error) {
    // Errors of the CommonJS build are not this module's GraphQLError: rebuild one Apollo recognises.
    throw new GraphQLError(error instanceof Error ? error.message : String(error), {
      extensions: { code: "BAD_USER_INPUT", http: { status: 400 } },
    });
  }
}

/** Error code of an operation refused for its cost: not a syntax or validation problem. */
export const COST_LIMIT_CODE = "COST_LIMIT_EXCEEDED";

/**
 * The refusal of an operation costing `cost` over `limit`: HTTP 400, code COST_LIMIT_EXCEEDED,
 * `extensions.cost` and `extensions.limit`.
 */
export function costLimitError(cost: number, limit: number): GraphQLError {
  return new GraphQLError(
    `The operation costs ${cost}, over the limit of ${limit}: ask for smaller pages or fewer fields.`,
    { extensions: { code: COST_LIMIT_CODE, cost, limit, http: { status: 400 } } },
  );
}
