DROP TABLE stream_alerts;
