// Package llm puts large language models behind designer.Designer: the
// Anthropic Messages API, any OpenAI-compatible Chat Completions server
// (OpenAI, vLLM, llama.cpp's server, Ollama's /v1) and Ollama's native
// /api/chat.
//
// Each provider is spoken in plain net/http and encoding/json, streaming,
// with the answer constrained by one JSON Schema (OutputSchema) built from
// the node-type catalog in package graph. Whatever the model answers is
// parsed and checked with graph.Validate; problems go back to the model for
// repair a few times, and a graph that is still invalid becomes an
// *InvalidGraphError — never a Result.
//
// New takes the *http.Client to speak through; cmd/kalcifer hands it one
// guarded by internal/netguard, since a base URL may be a tenant's choice.
// Errors never quote what a server said unless it is a provider's error
// message, and a failed connection reads the same whatever its cause.
//
// It imports graph, designer and internal/netguard only.
package llm
