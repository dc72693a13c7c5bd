package postgres_test

import (
	"context"
	"log"

	"github.com/vdsproject/vds/roles"
	"github.com/vdsproject/vds/storage/postgres"
)

// Several storage server replicas open the same database; each acknowledged
// change is one SERIALIZABLE transaction, so they never disagree. (Not run:
// it needs a PostgreSQL server.)
func ExampleOpen() {
	ctx := context.Background()
	s, err := postgres.Open(ctx, "postgres://vds@db.internal/vds?pool_max_conns=16",
		postgres.WithHolder("replica-1"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var _ roles.ServerStore = s // also roles.ProofTableStore and roles.ProofTableClaimer
	if err := s.Ping(ctx); err != nil {
		log.Fatal(err)
	}
}
