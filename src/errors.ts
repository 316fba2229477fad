/**
 * Herald's one error type. Domain code throws HeraldError with a kind; the API maps
 * the kind once to an HTTP status and the spec's error body
 * `{"developerMessage", "errorType", "violations"}`. Anything else thrown is an
 * internal error whose details never reach the client.
 */

export type ErrorKind =
  | 'bad_request' // 400
  | 'unauthorized' // 401
  | 'forbidden' // 403
  | 'not_found' // 404
  | 'method_not_allowed' // 405
  | 'conflict' // 409
  | 'precondition_failed' // 412
  | 'unprocessable' // 422
  | 'too_many_requests' // 429
  | 'destination_error' // 500: the spec's DESTINATION_RESPONDED_WITH_ERROR_CODE
  | 'unavailable'; // 503

export interface Violation {
  propertyName: string;
  developerMessage: string;
}

export class HeraldError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly errorType: string,
    message: string,
    readonly violations: Violation[] = [],
  ) {
    super(message);
    this.name = 'HeraldError';
  }
}

export const badRequest = (errorType: string, message: string, violations: Violation[] = []) =>
  new HeraldError('bad_request', errorType, message, violations);
export const unprocessable = (errorType: string, message: string, violations: Violation[] = []) =>
  new HeraldError('unprocessable', errorType, message, violations);
export const notFound = (errorType: string, message: string) => new HeraldError('not_found', errorType, message);
export const forbidden = (errorType: string, message: string) => new HeraldError('forbidden', errorType, message);
export const unauthorized = (errorType: string, message: string) => new HeraldError('unauthorized', errorType, message);
export const conflict = (errorType: string, message: string, violations: Violation[] = []) =>
  new HeraldError('conflict', errorType, message, violations);
