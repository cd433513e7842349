-- Each capture nonce keeps the answer its attempt was given (JSON: the HTTP status, the
-- outcome and what the person is told), written once the attempt is judged. The same
-- upload sent twice from one page (a second tap on a slow line) spends the nonce once;
-- the second request, from the same session, is answered with the first's outcome
-- instead of "this attempt has expired", which, arriving last, hid a certification or a
-- review behind a refusal (package citizen). The nonce still certifies at most once.
ALTER TABLE citizen_nonces ADD COLUMN answer TEXT NOT NULL DEFAULT '';
