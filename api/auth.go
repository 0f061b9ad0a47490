package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer"
)

// authenticate resolves the request's bearer key to a kalcifer.Principal and
// puts it in the context; requests without a valid key stop here with 401.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, err := bearerToken(r.Header.Get("Authorization"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.store.Authenticate(r.Context(), secret)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

// bearerToken extracts the credential of an "Authorization: Bearer <key>"
// header. The scheme is case-insensitive (RFC 9110 §11.1).
func bearerToken(header string) (string, error) {
	if header == "" {
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "missing API key: send the header Authorization: Bearer <key>")
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "malformed Authorization header: use Bearer <key>")
	}
	return token, nil
}

// principal returns who is calling. Only routes behind authenticate may call
// it; anywhere else it is a programming error.
func principal(r *http.Request) kalcifer.Principal {
	p, ok := r.Context().Value(principalKey).(kalcifer.Principal)
	if !ok {
		panic("api: principal requested on a route without authentication")
	}
	return p
}

// requireRole lets a request through only when its key's role allows need
// (a ranked role: viewer, editor or admin) or is one of also (roles outside
// the order, such as ingest, that the route accepts by name).
func (s *server) requireRole(need kalcifer.Role, also ...kalcifer.Role) func(http.Handler) http.Handler {
	wanted := fmt.Sprintf("the %s role or higher", need)
	for _, a := range also {
		wanted += fmt.Sprintf(", or the %s role", a)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := principal(r); !p.Role.Allows(need) && !slices.Contains(also, p.Role) {
				state := map[string]any{"role": string(p.Role), "required_role": string(need)}
				if len(also) > 0 {
					others := make([]string, len(also))
					for i, a := range also {
						others[i] = string(a)
					}
					state["also_allowed_roles"] = others
				}
				s.writeError(w, r, &kalcifer.Error{
					Code:    kalcifer.EFORBIDDEN,
					Message: fmt.Sprintf("this needs a key with %s; this key is %s", wanted, p.Role),
					State:   state,
				})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
