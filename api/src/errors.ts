/** Every error code a client can see, with its HTTP status and default message. */
export const ERROR_CATALOG = {
  VALIDATION_ERROR: { status: 400, message: 'The request is invalid.' },
  SALE_NOT_FOUND: { status: 404, message: 'There is no flash sale right now.' },
  NOT_FOUND: { status: 404, message: 'No such resource.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed on this resource.' },
  SALE_NOT_ACTIVE: { status: 409, message: 'The sale is not running right now.' },
  SOLD_OUT: { status: 409, message: 'All items have been sold.' },
  ALREADY_PURCHASED: { status: 409, message: 'You have already bought this item.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as application/json.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; try again shortly.' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side.' },
  SERVICE_UNAVAILABLE: {
    status: 503,
    message: 'The shop is busy or briefly unavailable; try again. Retrying a purchase is safe.',
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export const ERROR_CODES = Object.keys(ERROR_CATALOG) as [ErrorCode, ...ErrorCode[]];

export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CATALOG[code].message,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_CATALOG[code].status;
  }
}

/** The functional spec's error body (§4.2). */
export function errorBody(error: ApiError, correlationId: string) {
  return {
    status: 'error' as const,
    code: error.status,
    error: {
      code: error.code,
      message: error.message,
      correlationId,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
  };
}
