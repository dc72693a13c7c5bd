// Error codes of the wire (transport error codes): a verification that fails
// throws a VerifyError carrying one of them.

/** VerifyError is a rejection with the wire error code of the failure. */
export class VerifyError extends Error {
  constructor (code, message) {
    super(`${code}: ${message}`)
    this.code = code
  }
}

export const INVALID_ENCODING = 'invalid_encoding'
export const BAD_PROOF = 'bad_proof'
export const BAD_SIGNATURE = 'bad_signature'
export const REVOKED = 'revoked'
export const STALE_STATE = 'stale_state'
export const INCOMPLETE = 'incomplete'
export const INVALID_CRS = 'invalid_crs'
export const TOO_LARGE = 'too_large'
export const INVALID_INPUT = 'invalid_input'
export const WRONG_CHALLENGE = 'wrong_challenge'
export const UNKNOWN_STATE = 'unknown_state'
export const NON_CANONICAL = 'non_canonical'
export const IDENTITY = 'identity'
export const INVALID_POINT = 'invalid_point'
export const CRS_MISMATCH = 'crs_mismatch'
export const CONFLICT = 'conflict'

/** fail throws a VerifyError with the code and message. */
export function fail (code, message) {
  throw new VerifyError(code, message)
}
