-- load_mariadb.sql: the benchmark table (:rows replaced by run.sh)
CREATE TABLE t (
    id BIGINT PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    amount DECIMAL(12, 2),
    created_at DATETIME(6) NOT NULL,
    note VARCHAR(64),
    flag INT
) ENGINE=InnoDB;
INSERT INTO t
SELECT seq, CONCAT('name-', seq), (seq % 100000) / 7.0,
       TIMESTAMPADD(MICROSECOND, seq * 1234000, '2024-01-01 00:00:00'),
       IF(seq % 5 = 0, NULL, MD5(seq)), IF(seq % 3 = 0, NULL, seq % 1000)
FROM seq_1_to_:rows;
