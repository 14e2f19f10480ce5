// Typed engine errors: a stable machine-readable code plus the field, row and column that caused them.

/** Stable error codes; the API maps these to HTTP 4xx responses, so never rename one. */
export type EngineErrorCode =
  | 'InvalidParameter'
  | 'ExtensionLevelOutOfRange'
  | 'SampleSizeTooSmall'
  | 'InvalidTreeCount'
  | 'InvalidMatrix'
  | 'EmptyData'
  | 'TooFewRows'
  | 'NonFiniteValue'
  | 'DimensionMismatch'
  | 'DimensionTooLarge'
  | 'InvalidBlocks'
  | 'BadModelMagic'
  | 'UnsupportedModelVersion'
  | 'TruncatedModel'
  | 'CorruptModel'
  | 'ModelTooLarge'
  | 'InvalidContamination';

/** Where an error came from: a parameter name and/or a data cell. */
export interface EngineErrorDetail {
  /** Parameter or structure field, e.g. `extensionLevel` or `blocks[2].start`. */
  readonly field?: string;
  /** Zero-based row of the offending data cell. */
  readonly row?: number;
  /** Zero-based column of the offending data cell. */
  readonly col?: number;
}

/**
 * The only error type the engine throws for bad parameters, bad input data or a bad model encoding.
 * Every instance is the caller's fault (never transient), so callers should not retry.
 */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  readonly code: EngineErrorCode;
  readonly field: string | undefined;
  readonly row: number | undefined;
  readonly col: number | undefined;

  constructor(code: EngineErrorCode, message: string, detail: EngineErrorDetail = {}) {
    super(message);
    this.code = code;
    this.field = detail.field;
    this.row = detail.row;
    this.col = detail.col;
  }

  /** A JSON-friendly view `{code, message, field?, row?, col?}` for HTTP error bodies and logs. */
  toJSON(): { code: EngineErrorCode; message: string } & EngineErrorDetail {
    return {
      code: this.code,
      message: this.message,
      ...(this.field === undefined ? {} : { field: this.field }),
      ...(this.row === undefined ? {} : { row: this.row }),
      ...(this.col === undefined ? {} : { col: this.col }),
    };
  }
}
