package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/kalcifer/kalcifer"
	"github.com/kalcifer/kalcifer/jwtauth"
)

// authenticate resolves the request's bearer credential, an API key or a
// JWT, to a kalcifer.Principal and puts it in the context; requests without
// a valid one stop here with 401.
func (s *server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		credential, err := bearerToken(r.Header.Get("Authorization"))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		p, err := s.principalOf(r.Context(), credential)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, withPrincipal(r, p))
	})
}

// principalOf tells an API key from a JWT and checks it. API keys start
// with "kal_" (a key seeded from KALCIFER_ADMIN_API_KEY may not, and is
// looked up like any key); a JWT has three dot-separated base64url parts.
func (s *server) principalOf(ctx context.Context, credential string) (kalcifer.Principal, error) {
	if strings.HasPrefix(credential, "kal_") || !jwtauth.LooksLikeJWT(credential) {
		return s.store.Authenticate(ctx, credential)
	}
	if s.jwt == nil {
		if p, err := s.store.Authenticate(ctx, credential); err == nil {
			return p, nil
		}
		return kalcifer.Principal{}, kalcifer.Errorf(kalcifer.EUNAUTHORIZED,
			"this server does not accept JWTs (sign-in with tokens is not configured); use an API key")
	}
	p, err := s.jwt.Verify(credential)
	if errors.Is(err, jwtauth.ErrKeysUnavailable) {
		s.logger.ErrorContext(ctx, "JWT keys unavailable", slog.Any("error", err))
		return kalcifer.Principal{}, kalcifer.Errorf(codeUnavailable, "the token cannot be checked now: its signing keys could not be fetched; try again shortly")
	}
	if err != nil {
		return kalcifer.Principal{}, err
	}
	if _, err := s.store.GetTenant(ctx, p.TenantID); err != nil {
		if kalcifer.ErrorCode(err) == kalcifer.ENOTFOUND {
			return kalcifer.Principal{}, kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "the token's tenant %q does not exist", p.TenantID)
		}
		return kalcifer.Principal{}, fmt.Errorf("authenticate token: %w", err)
	}
	return p, nil
}

// bearerToken extracts the credential of an "Authorization: Bearer <key>"
// header. The scheme is case-insensitive (RFC 9110 §11.1).
func bearerToken(header string) (string, error) {
	if header == "" {
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "missing API key or token: send the header Authorization: Bearer <key or token>")
	}
	scheme, token, ok := strings.Cut(header, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", kalcifer.Errorf(kalcifer.EUNAUTHORIZED, "malformed Authorization header: use Bearer <key or token>")
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
					Message: fmt.Sprintf("this needs a key or token with %s; this %s is %s", wanted, credentialNoun(p), p.Role),
					State:   state,
				})
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// credentialNoun names what the principal signed in with.
func credentialNoun(p kalcifer.Principal) string {
	if p.Subject != "" {
		return "token"
	}
	return "key"
}
