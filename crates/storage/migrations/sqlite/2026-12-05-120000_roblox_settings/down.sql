DROP TABLE roblox_settings;
