// Package notice turns the engine's decisions into SMS notices (短信通知) and sends them:
// Plan (pure) says which notices one decision calls for and renders their text from
// zh-CN templates; the service queues them in the store's outbox in the transaction of the
// decision; a Sender claims what is due and hands it to a Gateway (an HTTP webhook, or a
// file for tests and the demo), with quiet hours, a per-day limit, retries with backoff
// and at most one send per notice across restarts.
//
// It must never send to a person whose death has been accepted, never send a notice twice
// after a restart (unless configured to prefer a duplicate to a loss), and never write a
// phone number or a name to a log unmasked. Plan must stay pure: no clock, no I/O.
package notice
