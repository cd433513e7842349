package web

// SetExportBounds lowers the most rows a worklist export and an audit export hold, for
// a test, until the returned func puts them back.
func SetExportBounds(work, trail int) (restore func()) {
	w, t := exportRows, trailExportRows
	exportRows, trailExportRows = work, trail
	return func() { exportRows, trailExportRows = w, t }
}
