// Package transport carries the methods of the three vds services (SPEC §8)
// between processes, so that one process or several cooperating servers run
// the same role code.
//
// # Shape
//
// A [Service] is a named set of [Method]s built from a role: [StorageService]
// from a roles.StorageServer, [OwnerService] from a roles.DataOwner,
// [VerifierService] from a roles.Verifier. A [Transport] calls a method of a
// service by name with a request value and fills a response value, honouring
// the context. Three transports implement it:
//
//   - [NewInProc]: in the same process. By default every request and
//     response still goes through the codec, so tests exercise the wire path;
//     [WithoutCodec] passes values directly.
//   - [NewHTTPClient] and [NewHTTPHandler]: POST /v1/{service}/{method} with
//     application/cbor bodies, over net/http, with TLS and mutual TLS,
//     timeouts, body limits, graceful shutdown and retries of idempotent
//     calls.
//   - [NewUnixClient] and [ServeUnix]: a length-prefixed framing over a Unix
//     socket with pooled connections — no HTTP parsing, faster on one host.
//
// [Dial] picks one from an address: "http://host:port", "https://…",
// "unix:///path/to.sock".
//
// Typed clients wrap a Transport for each service: [StorageClient]
// implements roles.StorageClient and roles.StateSource, so a DataOwner or a
// Verifier in one process talks to a StorageServer in another exactly as it
// would in-process; [VerifierClient] implements roles.StateListener.
//
// # Errors
//
// A method's error travels as a typed, decodable value (a code, a message,
// and the evidence of typed errors: epochs, batch ids, fields) and is
// rebuilt on the client so that errors.Is and errors.As match the same
// sentinels and types as in-process: a remote ErrRevoked is
// vds.ErrRevoked, a remote *roles.MissingStatesError names the same epochs.
// Transport failures wrap roles.ErrUnavailable.
//
// # Security
//
// Mutating storage methods accept only owner-signed input (the roles check
// the signatures; a batch's header signature is checked on its bytes before
// any of its points or data is decoded), and no method re-initialises a
// server.
//
// Every method has an [Access] level ([MethodAccess], the table of
// SECURITY.md): public, the owner's pushes to storage servers and
// verifiers ([AccessOwner]) or the owner's mutations ([AccessAdmin]). The
// restricted ones are Restricted methods: a server asks its [Authorizer]
// ([WithAuthorizer], default [DefaultAuthorizer]) before it reads their
// requests. The default admits in-process calls and Unix-socket peers (the
// socket's mode 0600 is the check) to everything, and a client whose
// certificate the handshake verified to the methods of the [Role] its
// certificate names ([RoleOf]: one URI SAN "vds:role:ROLE"); a certificate
// without a role may call public methods only. Without mutual TLS the
// owner's pushes stay open (their input is owner-signed);
// [NewTokenAuthorizer] admits a bearer token held in a file to the admin's
// methods, compared in constant time and re-read at most once a second so
// that it rotates without a restart. Clients send it with
// [WithBearerToken]. Refusals are vds.ErrUnauthorized (HTTP 401), logged
// at WARN with the [Peer] — never with a token.
//
// # Limits
//
// Every method carries the size of the largest request it can legitimately
// receive ([RequestLimits], from the CRS capacity and the roles' limits) and
// a codec whose array limits fit it. Servers refuse a larger declared length
// before reading the body, read through the limit, and decode with the
// method's codec, whose well-formedness pass refuses an oversized array
// before any point is decoded. At most [WithMaxConcurrent] requests (64) and
// [WithMaxInflightBytes] of bodies (32 MiB) are handled at once; beyond, a
// request is refused with ErrUnavailable (HTTP 503) before its body is read.
// The HTTP transport wants exactly application/cbor.
//
// # Health and metrics
//
// [StorageReady], [OwnerReady] and [VerifierReady] say whether a server is
// ready (its store reachable, a current signed state). The health method
// answers it to a [HealthRequest] with Ready set ([CheckHealth]); with
// [WithReadiness], [NewHTTPHandler] also serves GET /healthz and /readyz
// ([HealthHandler]). A server reports every request and every handler
// call to its [Observer] ([WithObserver]; package metrics exports them to
// Prometheus), and a client with several addresses reports its fail-overs
// to the hook of [WithOnFailover].
package transport
