# syntax=docker/dockerfile:1
# Multi-stage build: a static kalcifer binary on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/kalcifer ./cmd/kalcifer

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kalcifer /kalcifer
ENV KALCIFER_ADDR=:4000 KALCIFER_DATA_DIR=/data
VOLUME /data
EXPOSE 4000
USER nonroot:nonroot
ENTRYPOINT ["/kalcifer"]
CMD ["serve"]
