# syntax=docker/dockerfile:1
# Multi-stage build: a static kalcifer binary on a distroless base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/kalcifer ./cmd/kalcifer
# The SQLite data directory. Distroless has no shell to make it in the final
# image, and the server runs as nonroot, so it is made here and copied over
# owned by nonroot; a new volume on /data starts with that ownership.
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kalcifer /kalcifer
COPY --from=build --chown=nonroot:nonroot /out/data /data
ENV KALCIFER_ADDR=:4000 KALCIFER_DATA_DIR=/data
USER nonroot:nonroot
VOLUME /data
EXPOSE 4000
ENTRYPOINT ["/kalcifer"]
CMD ["serve"]
