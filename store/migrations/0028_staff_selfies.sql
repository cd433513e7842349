-- Until session 16 a face that staff accepted on the review page became the person's
-- selfie reference, the template their later attempts were matched against on the spot:
-- one accept of someone else's face, made with no ID photo to compare, let that face
-- certify for good. Staff accepts no longer become references; the selfie references of
-- people with an accept made by staff (a review whose reason is not an on-the-spot
-- 'auto:' one) are deleted here, so that their next attempt, with no reference, waits for
-- staff review (or an ID photo imported) instead of matching a face no one checked.
DELETE FROM citizen_refs WHERE kind = 'selfie' AND pid IN
  (SELECT pid FROM citizen_reviews WHERE status = 'accepted' AND reason NOT LIKE 'auto:%');
