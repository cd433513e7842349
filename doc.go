// Package silentcert holds the domain of silent certification (静默认证): recipients,
// entitlements, records, the evidence catalogue, the certification policy, statuses,
// decisions and the error type shared by every layer.
//
// It depends on nothing beyond the standard library and does no I/O. Every other package
// of the project builds on these types; none of them is imported here.
package silentcert
