// Stream windows (SPEC §11): completeness proof and aggregated answer. (in progress)
import { fail, INVALID_INPUT } from './errors.js'
export function verifyStream () { fail(INVALID_INPUT, 'stream: not implemented yet') }
