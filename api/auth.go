package api

import (
	"context"
	"fmt"
	"net/http"
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

// requireRole lets a request through only when its key's role allows need.
func (s *server) requireRole(need kalcifer.Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := principal(r); !p.Role.Allows(need) {
				s.writeError(w, r, &kalcifer.Error{
					Code:    kalcifer.EFORBIDDEN,
					Message: fmt.Sprintf("this needs a key with the %s role or higher; this key is %s", need, p.Role),
					State:   map[string]any{"role": string(p.Role), "required_role": string(need)},
				})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
