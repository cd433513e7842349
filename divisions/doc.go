// Package divisions holds the NBS statistical division tables (统计用区划代码, 2023
// edition: province, prefecture, county, town, village) and the resolver that turns a
// free-text registered address (户籍地址) into the 12-digit code of its village or
// community, by which worklists are routed.
//
// It is pure: it reads only the tables it is given (embedded in the binary or loaded from
// a directory), never the network or the clock, and it never guesses silently between two
// divisions that fit an address equally well; it reports them as ambiguous instead.
package divisions
