package security

// Finding 5 (the content type): the HTTP transport checked the content
// type with a prefix match, so application/cborXYZ passed. It now parses
// the media type and wants exactly application/cbor.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vdsproject/vds/transport"
)

func TestFinding5ContentTypeExact(t *testing.T) {
	d := newTrDeployment(t)
	url := "http://" + trServeHTTP(t, []*transport.Service{transport.VerifierService(d.verifier)}) + "/v1/verifier/health"
	post := func(ct string) int {
		req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("\xa0"))
		require.NoError(t, err)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	for _, bad := range []string{"application/cborXYZ", "application/cbor+json", "application/cbor-seq", "application/cbor/x",
		"application/json", "text/plain", "", "application/cbor; x", "application/cbor;;"} {
		require.Equal(t, http.StatusUnsupportedMediaType, post(bad), "content type %q", bad)
	}
	for _, good := range []string{"application/cbor", "Application/CBOR", "application/cbor; charset=binary"} {
		require.Equal(t, http.StatusOK, post(good), "content type %q", good)
	}
}
