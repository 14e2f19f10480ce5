// HTTP errors as JSON `{error, code, detail}`; detail names the field, row or column that caused them.

/** Where in a request a problem is: a field path, or a data row/column (zero-based) and input line. */
export interface ErrorDetail {
  readonly field?: string;
  readonly row?: number;
  readonly column?: number;
  readonly columnName?: string;
  readonly line?: number;
  readonly [extra: string]: unknown;
}

/** An error that becomes an HTTP response with a stable `code`. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail: ErrorDetail = {},
  ) {
    super(message);
  }

  toBody(): { error: string; code: string; detail: ErrorDetail } {
    return { error: this.message, code: this.code, detail: this.detail };
  }
}

export const notFound = (what: string, id: string): HttpError =>
  new HttpError(404, 'NotFound', `${what} ${JSON.stringify(id)} not found`, {
    [what === 'job' ? 'jobId' : `${what}Id`]: id,
  });
