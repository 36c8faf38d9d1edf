DROP TABLE stream_keys;
DROP TABLE stream_watches;
