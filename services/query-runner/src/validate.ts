// Submit-time validation of a catalog query, pure (no database): PostgreSQL's own parser (libpg-query, the
// server's grammar compiled to WebAssembly) must see exactly one plain SELECT — no DML or DDL, nowhere (a
// data-modifying CTE is refused too), no SELECT INTO, no FOR UPDATE/SHARE — and no call, anywhere in the
// tree (subqueries, CTEs, FROM, LATERAL), to a function on the deny-list. The runner's READ ONLY transaction
// and the catalog's read-only role stay the backstop; this gives the user a clear error before any pod.

import { parse } from 'libpg-query';

/**
 * Functions a catalog query may not call: sleeping, other connections (dblink), large objects and server
 * files, settings, other backends, locks, notifications, sequences, and the *_to_xml functions that run
 * a query given as a string (which would escape this check). A trailing `*` is a prefix.
 */
export const DENIED_FUNCTIONS: readonly string[] = [
  'pg_sleep*',
  'dblink*',
  'lo_*',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_*',
  'pg_stat_file',
  'pg_file_*',
  'set_config',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_promote',
  'pg_switch_wal',
  'pg_create_*',
  'pg_drop_replication_slot',
  'pg_replication_*',
  'pg_logical_*',
  'pg_advisory*',
  'pg_try_advisory*',
  'pg_notify',
  'nextval',
  'setval',
  'query_to_xml*',
  'cursor_to_xml*',
  'table_to_xml*',
  'schema_to_xml*',
  'database_to_xml*',
];

/** Why a query was refused: a stable code, the construct, and where (1-based line and column). */
export class QueryValidationError extends Error {
  override readonly name = 'QueryValidationError';
  constructor(
    readonly code: string,
    message: string,
    readonly construct?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

/** Statement nodes that change data or schema; anything but SelectStmt at the top is refused too. */
const WRITES: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

/** "INSERT", "CREATE TABLE", … from a parse-tree statement node's name, for messages. */
function statementName(node: string): string {
  return (
    WRITES[node] ??
    node
      .replace(/Stmt$/, '')
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toUpperCase()
  );
}

function denied(name: string, list: readonly string[]): boolean {
  const n = name.toLowerCase();
  return list.some((p) => (p.endsWith('*') ? n.startsWith(p.slice(0, -1)) : n === p));
}

/** 1-based line and column of a byte offset (the parser counts UTF-8 bytes). */
function place(sql: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(sql, 'utf8').subarray(0, Math.max(0, byteOffset)).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: [...(lines.at(-1) ?? '')].length + 1 };
}

function at(sql: string, loc: unknown): { line?: number; column?: number; where: string } {
  if (typeof loc !== 'number' || loc < 0) return { where: '' };
  const p = place(sql, loc);
  return { ...p, where: ` at line ${p.line}, column ${p.column}` };
}

interface Options {
  readonly deniedFunctions?: readonly string[];
}

/** The nearest `location` in a node (most nodes carry one; a FuncCall's is its name). */
function locationOf(node: unknown): unknown {
  return typeof node === 'object' && node !== null ? (node as { location?: unknown }).location : undefined;
}

/** Walks every node of the tree, refusing writes, SELECT INTO, locking clauses and denied functions. */
function walk(sql: string, node: unknown, list: readonly string[]): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(sql, n, list);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (key.endsWith('Stmt') && key !== 'SelectStmt') {
      const a = at(sql, locationOf((value as { relation?: unknown }).relation));
      throw new QueryValidationError(
        'QueryNotSelectOnly',
        `${statementName(key)} inside the query${a.where}: only SELECT is allowed`,
        statementName(key),
        a.line,
        a.column,
      );
    }
    if (key === 'SelectStmt') checkSelect(sql, value as Record<string, unknown>);
    if (key === 'FuncCall') checkCall(sql, value as { funcname?: unknown; location?: unknown }, list);
    walk(sql, value, list);
  }
}

const LOCKS: Readonly<Record<string, string>> = {
  LCS_FORKEYSHARE: 'FOR KEY SHARE',
  LCS_FORSHARE: 'FOR SHARE',
  LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE',
  LCS_FORUPDATE: 'FOR UPDATE',
};

function checkSelect(sql: string, s: Record<string, unknown>): void {
  if (s['intoClause'] !== undefined) {
    const a = at(sql, locationOf((s['intoClause'] as { rel?: unknown }).rel));
    throw new QueryValidationError(
      'QuerySelectInto',
      `SELECT INTO${a.where} creates a table: only a plain SELECT is allowed`,
      'SELECT INTO',
      a.line,
      a.column,
    );
  }
  const locking = s['lockingClause'];
  if (Array.isArray(locking) && locking.length > 0) {
    const strength = (locking[0] as { LockingClause?: { strength?: string } }).LockingClause?.strength;
    const what = LOCKS[strength ?? ''] ?? 'FOR UPDATE';
    throw new QueryValidationError('QueryLocking', `${what} locks rows: a catalog query only reads`, what);
  }
}

function checkCall(
  sql: string,
  call: { funcname?: unknown; location?: unknown },
  list: readonly string[],
): void {
  const parts = Array.isArray(call.funcname)
    ? call.funcname.map((n) => (n as { String?: { sval?: string } }).String?.sval ?? '')
    : [];
  const name = parts.at(-1) ?? '';
  if (!denied(name, list)) return;
  const a = at(sql, call.location);
  throw new QueryValidationError(
    'QueryFunctionDenied',
    `function ${parts.join('.')}()${a.where} is not allowed in a catalog query`,
    `${parts.join('.')}()`,
    a.line,
    a.column,
  );
}

/**
 * Resolves when `sql` is exactly one SELECT a catalog may run; otherwise rejects with a
 * QueryValidationError (code QuerySyntax, QueryEmpty, QueryNotSingleStatement, QueryNotSelectOnly,
 * QuerySelectInto, QueryLocking or QueryFunctionDenied) naming the construct and its position.
 */
export async function validateQuery(sql: string, opts: Options = {}): Promise<void> {
  const list = opts.deniedFunctions ?? DENIED_FUNCTIONS;
  // The parser refuses an empty string outright; a query of only comments parses to no statement.
  if (sql.trim() === '') throw new QueryValidationError('QueryEmpty', 'the query holds no statement');
  let tree: Awaited<ReturnType<typeof parse>>;
  try {
    tree = await parse(sql);
  } catch (err) {
    const d = (err as { sqlDetails?: { message?: string; cursorPosition?: number } }).sqlDetails;
    const a = at(sql, d?.cursorPosition);
    throw new QueryValidationError(
      'QuerySyntax',
      `${d?.message ?? String(err)}${a.where}`,
      undefined,
      a.line,
      a.column,
    );
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length === 0) throw new QueryValidationError('QueryEmpty', 'the query holds no statement');
  if (stmts.length > 1) {
    const a = at(sql, stmts[1]?.stmt_location ?? undefined);
    throw new QueryValidationError(
      'QueryNotSingleStatement',
      `${stmts.length} statements: a query is exactly one SELECT (the second starts${a.where || ' after the first'})`,
      undefined,
      a.line,
      a.column,
    );
  }
  const stmt = (stmts[0]?.stmt ?? {}) as Record<string, unknown>;
  const kind = Object.keys(stmt)[0] ?? '';
  if (kind !== 'SelectStmt') {
    throw new QueryValidationError(
      'QueryNotSelectOnly',
      `${statementName(kind)} is not a SELECT: a catalog query only reads`,
      statementName(kind),
    );
  }
  walk(sql, stmt, list);
}
