-- Dense people numbers (docs/performance.md, "/engagement"). Numbering a person already
-- numbered took a number from the sequence all the same, so the numbers had gaps (189,089 for
-- 50,000 people in the benchmark) and every set of people, a bitmap up to the largest number,
-- was several times larger than needed. When the numbers have gaps, they are given again from 1
-- in the same order, the day rollups are dropped and every post is marked dirty: the next
-- refresh (before any report) derives them all again with the new numbers.
DELETE FROM eng_day_rollups
WHERE (SELECT COALESCE(MAX(idx), 0) FROM eng_people) > (SELECT COUNT(*) FROM eng_people);
DELETE FROM eng_dirty_days
WHERE (SELECT COALESCE(MAX(idx), 0) FROM eng_people) > (SELECT COUNT(*) FROM eng_people);
INSERT INTO eng_dirty_posts (post_id, version)
SELECT post_id, 1 FROM eng_post_rollups
WHERE (SELECT COALESCE(MAX(idx), 0) FROM eng_people) > (SELECT COUNT(*) FROM eng_people)
ON CONFLICT (post_id) DO UPDATE SET version = eng_dirty_posts.version + 1;

CREATE TEMPORARY TABLE eng_people_dense AS
SELECT ROW_NUMBER() OVER (ORDER BY idx) AS idx, person FROM eng_people;
DELETE FROM eng_people;
INSERT INTO eng_people (idx, person) SELECT idx, person FROM eng_people_dense;
DROP TABLE eng_people_dense;
SELECT setval(pg_get_serial_sequence('eng_people', 'idx'),
              (SELECT COALESCE(MAX(idx), 0) + 1 FROM eng_people), false);
