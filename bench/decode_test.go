package bench

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/vdsproject/vds/codec"
	"github.com/vdsproject/vds/internal/worstcase"
	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/memory"
	"github.com/vdsproject/vds/transport"
)

// decodeServices returns the three services on a CRS of capacity n, and
// the CRS digest and owner id a header needs to reach its signature check.
func decodeServices(b *testing.B, n int) (map[string]*transport.Service, roles.Hash, roles.Hash) {
	b.Helper()
	ctx := context.Background()
	crs := crsOf(b, n)
	o, err := roles.NewDataOwner(ctx, crs, memory.NewOwnerStore(), transport.StorageClient{T: transport.NewInProc(nil)})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := roles.NewStorageServer(crs, o.Keys(), memory.NewServerStore())
	if err != nil {
		b.Fatal(err)
	}
	v, err := roles.NewVerifier(crs.VerifierKey(), o.Keys())
	if err != nil {
		b.Fatal(err)
	}
	keys := o.Keys()
	return map[string]*transport.Service{
		transport.ServiceOwner:    transport.OwnerService(o, nil),
		transport.ServiceStorage:  transport.StorageService(srv),
		transport.ServiceVerifier: transport.VerifierService(v),
	}, srv.CRSDigest(), keys.ID()
}

// BenchmarkDecodeWorst decodes, as a server does, the largest message each
// request limit allows at n = 1024 (every array at its maximum, every point
// present): the method's codec, then for store_batch and update_batch the
// header and its check (the forged signature stops there, as it stops an
// unauthenticated peer). The data of a batch, decoded only for the owner,
// is the row method=…/data. The refused/… rows are messages past the
// structural limits (the 65,536-point header of finding 4), refused by the
// well-formedness pass before any point is decoded.
func BenchmarkDecodeWorst(b *testing.B) {
	const n = 1024
	l := roles.DefaultLimits()
	services, crsDigest, owner := decodeServices(b, n)
	reqs := worstcase.Requests(n, l)
	sb := reqs[transport.ServiceStorage]["store_batch"].(*roles.StoreBatchRequest)
	ub := reqs[transport.ServiceStorage]["update_batch"].(*roles.UpdateBatchRequest)
	sb.Header.Header.CRS, sb.Header.Header.Owner = crsDigest, owner
	ub.Header.Header.CRS, ub.Header.Header.Owner = crsDigest, owner
	var names []string
	where := map[string]string{}
	for svc, ms := range reqs {
		for m := range ms {
			key := m
			if svc == transport.ServiceOwner && m == "update_batch" {
				key = "owner_update_batch"
			}
			names = append(names, key)
			where[key] = svc + "/" + m
		}
	}
	sort.Strings(names)
	for _, key := range names {
		svcName, mName := splitPath(where[key])
		m, _ := services[svcName].Method(mName)
		body, err := codec.Default().Marshal(reqs[svcName][mName])
		if err != nil {
			b.Fatal(err)
		}
		staged := svcName == transport.ServiceStorage && (mName == "store_batch" || mName == "update_batch")
		// A stream answer's parts are decoded only after its state and
		// completeness proof hold: the forged one stops there.
		prechecked := svcName == transport.ServiceVerifier && mName == "verify_stream"
		b.Run("method="+key+"/n=1024", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for range b.N {
				req := m.NewRequest()
				if err := m.Codec.Unmarshal(body, req); err != nil {
					b.Fatal(err)
				}
				if staged {
					if _, err := m.Serve(context.Background(), req); !errors.Is(err, roles.ErrBadSignature) {
						b.Fatalf("forged header: %v", err)
					}
				}
				if prechecked {
					if _, err := m.Serve(context.Background(), req); !errors.Is(err, roles.ErrCRSMismatch) {
						b.Fatalf("forged stream answer: %v", err)
					}
				}
			}
		})
		if staged && mName == "store_batch" {
			data, err := codec.Default().Marshal(worstcase.BatchData(n, l))
			if err != nil {
				b.Fatal(err)
			}
			dc, err := codec.NewCBOR(codec.Limits{MaxMessageBytes: len(data), MaxArrayElements: n, MaxMapPairs: 32})
			if err != nil {
				b.Fatal(err)
			}
			b.Run("method=store_batch/data/n=1024", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(data)))
				for range b.N {
					var d roles.BatchData
					if err := dc.Unmarshal(data, &d); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	m, _ := services[transport.ServiceVerifier].Method("verify_dc_query")
	lim := m.Codec.(*codec.CBOR).Limits()
	lim.MaxMessageBytes = 1 << 30 // past the body limit: the structural limits alone
	structural, err := codec.NewCBOR(lim)
	if err != nil {
		b.Fatal(err)
	}
	header, err := worstcase.OversizedHeader(n, l, 1<<16)
	if err != nil {
		b.Fatal(err)
	}
	values, err := worstcase.OversizedValues(n, l, 1<<16)
	if err != nil {
		b.Fatal(err)
	}
	for name, msg := range map[string][]byte{"refused/header-65536-points": header, "refused/values-65536": values} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for range b.N {
				if err := structural.Unmarshal(msg, m.NewRequest()); !errors.Is(err, codec.ErrTooLarge) {
					b.Fatalf("not refused for its size: %v", err)
				}
			}
		})
	}
}

func splitPath(p string) (string, string) {
	for i := range p {
		if p[i] == '/' {
			return p[:i], p[i+1:]
		}
	}
	return p, ""
}
