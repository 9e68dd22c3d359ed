-- changes_pg.sql: 10 scattered changes (8 updates, 1 delete, 1 insert)
UPDATE t SET name = name || ' ' WHERE id = 7;
UPDATE t SET amount = amount + 0.01 WHERE id = :rows / 10 + 3;
UPDATE t SET created_at = created_at + interval '1 microsecond' WHERE id = :rows / 5 + 1;
UPDATE t SET note = NULL WHERE id = :rows / 4 + 1;
UPDATE t SET note = '' WHERE id = :rows / 3 + 5;
UPDATE t SET flag = 1000 WHERE id = :rows / 2 + 1;
UPDATE t SET name = 'renamed' WHERE id = :rows * 2 / 3 + 1;
UPDATE t SET amount = NULL WHERE id = :rows * 4 / 5 + 1;
DELETE FROM t WHERE id = :rows * 9 / 10 + 1;
INSERT INTO t VALUES (:rows + 100, 'new', 1, '2030-01-01 00:00:00+00', NULL, NULL);
