/**
 * gRPC status codes for the router's failures. The router decides in HTTP terms (one rule set
 * for both fronts, and the event log records HTTP statuses); this is the one place that says
 * which gRPC code each becomes (docs/router-api.md, "Errors over gRPC").
 */
import { HttpError } from '../http';
import { Code as status, type GrpcMetadata } from './wire';

export interface GrpcFailure {
  code: status;
  details: string;
  metadata?: GrpcMetadata;
}

/**
 * The gRPC code for an HTTP status the router answers or records. `upstreamAnswered`: the 502
 * is an upstream's own 5xx (INTERNAL) rather than an upstream that could not be reached
 * (UNAVAILABLE, which clients may retry).
 */
export function grpcCode(httpStatus: number, upstreamAnswered = false): status {
  switch (httpStatus) {
    case 200:
      return status.OK;
    case 400:
    case 422:
      return status.INVALID_ARGUMENT;
    case 401:
      return status.UNAUTHENTICATED;
    case 403:
      return status.PERMISSION_DENIED;
    case 404:
      return status.NOT_FOUND;
    case 408:
    case 504:
      return status.DEADLINE_EXCEEDED;
    case 409:
      return status.FAILED_PRECONDITION;
    case 413:
    case 429:
      return status.RESOURCE_EXHAUSTED;
    case 499:
      return status.CANCELLED;
    case 502:
      return upstreamAnswered ? status.INTERNAL : status.UNAVAILABLE;
    case 503:
      return status.UNAVAILABLE;
    default:
      return httpStatus >= 400 && httpStatus < 500 ? status.FAILED_PRECONDITION : status.INTERNAL;
  }
}

/** A thrown error as a gRPC status: HttpError by its status, `grpcCode` when set, else INTERNAL. */
export function errorStatus(err: unknown): GrpcFailure {
  if (err instanceof GrpcError) return { code: err.code, details: err.message, metadata: err.metadata };
  if (err instanceof HttpError) return { code: grpcCode(err.status), details: err.message };
  const code = (err as { grpcCode?: status })?.grpcCode;
  if (code !== undefined) return { code, details: (err as Error).message };
  return { code: status.INTERNAL, details: `the router failed: ${(err as Error)?.message ?? String(err)}` };
}

/** A failure to answer with a given code and trailing metadata. */
export class GrpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly metadata: GrpcMetadata = {},
  ) {
    super(message);
    this.name = 'GrpcError';
  }
}
