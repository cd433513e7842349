-- record_aside.pid: the person a record linked to no one on arrival was found to name
-- when a roster import enrolled them later (service.linkEnrolled) and is held for review
-- because its name disagrees; NULL: the person is the one its stored chunk names.
ALTER TABLE record_aside ADD COLUMN pid {{bigint}};
