// Package segment is the language of segments: a rule tree over a
// customer's profile and events (and, or, not; typed attribute comparisons;
// tags; "performed event X at least N times in the last D days"; membership
// of another segment), in two forms that say the same thing: the JSON form
// (Rule, for the editor and the API) and a one-line text form (Parse and
// Rule.String). Validate names a bad clause by its path in the JSON form,
// e.g. rule.and[2].value.
//
// It evaluates nothing: the store compiles a Rule to one SQL query per
// backend. It imports only the root kalcifer package.
package segment
