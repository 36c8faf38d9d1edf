// The Node.js side of `cargo xtask bench --only cards --peers` (xtask/src/bench_peers.rs): renders
// cards with one peer library and prints one line of JSON with what it measured.
//
//   node cards.mjs '{"peer":"canvacord","card":"rank","avatar":"/abs/avatar.png",
//                    "background":"/abs/background.jpg","cards":150,"clients":8,"warmup":5,
//                    "mode":"async","prefix":"R1","sample":"/abs/sample.png"}'
//
// xtask copies this file into the peers cache directory ($GARRISON_PEERS_DIR or
// ~/.cache/garrison/peers), next to the node_modules it installed there, and runs it from there, so
// `import`/`require` resolve the cached packages. Nothing here reaches the network (fetch and
// http(s) requests are made to throw below, so a library that tries fails loudly):
//
// - canvacord 6.0.4, rank: `new RankCardBuilder()` (930x280, its NeoClassical card), avatar and
//   background given as file paths (canvacord's loadImage reads existing paths from disk), the
//   bundled Geist font (`Font.loadDefault()`), `.build({ format: "png" })` (satori lays the card
//   out as SVG, resvg rasterises and encodes the PNG).
// - canvacord 6.0.4, welcome: canvacord 6 has no welcome-card builder (it exports RankCardBuilder,
//   LeaderboardBuilder and image-effect templates only), so `WelcomeCard` below subclasses its
//   generic `Builder` with its `JSX` at 1024x400 and mirrors Garrison's welcome layout: the
//   background cover-scaled under a 45 % black overlay, a round avatar in a 6 px ring (172 px
//   across, centred 112 px from the top), then two centred lines ("Welcome" 52 px, the display name
//   38 px, both asking for bold; only the bundled Geist regular is loaded) and rounded corners.
// - discord-arts 0.7.1, rank: `Profile(userId, { rankData, customBackground, customUsername, ... })`
//   (its profile card with an XP bar, fixed at 885x303). `Profile` first fetches the Discord user
//   from discord-arts' own web API (dist/core/services/fetch.utils.js, `fetchUserData`) and then
//   loads `assets.avatarURL + "?size=512"` with @napi-rs/canvas' loadImage. We stub only that fetch:
//   `fetchUserData` is replaced on its module's exports (Profile looks it up there on every call)
//   by a function returning a local user object in the API's shape, whose avatarURL is our avatar
//   file; a copy of the avatar is written as "<avatar>?size=512" beside it, a file name loadImage
//   then reads from disk. Everything after the fetch (fonts, loading, drawing, PNG encoding) is the
//   library's own code. Its fonts are registered from "./public/fonts" relative to the working
//   directory, so the script changes into the package's directory first. `rankData.barColor` is
//   given because 0.7.1 throws without it; the background gets its default 3 px blur.
//
// Phases, after `warmup` cards that are not counted: `cards` cards one after the other (the median
// latency of one client), then `cards` cards from `clients` concurrent clients (cards per second).
// mode "async": the clients are `clients` async loops in this one thread under Promise.all, as a
// bot renders; mode "workers": `clients` worker_threads, each rendering back to back (for a peer
// whose rendering blocks the event loop). CPU is process.cpuUsage() over both measured phases (all
// threads), peak RSS is process.resourceUsage().maxRSS at the end.

import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const require = createRequire(import.meta.url);

// No request leaves this process: a library that tried one (an emoji image, a user lookup, an image
// URL that is not a file) fails its card loudly instead of timing the network.
const offline = (what) => () => {
  throw new Error(`cards.mjs is offline: ${what} was called`);
};
globalThis.fetch = async (url) => offline(`fetch(${url})`)();
for (const lib of [require("node:http"), require("node:https")]) {
  lib.request = offline("http(s).request");
  lib.get = offline("http(s).get");
}
syncBuiltinESMExports();

/** The same card data Garrison gets for card `n` (bench_peers.rs sends these in headers). */
function cardData(cfg, n) {
  return {
    name: `${cfg.prefix}Member${n}`,
    level: n % 100,
    xp: (n * 37) % 5000,
    required: 5000,
    rank: n + 1,
  };
}

/** An async function rendering card `n` to a PNG buffer, for the configured peer and card. */
async function renderer(cfg) {
  const key = `${cfg.peer}/${cfg.card}`;
  if (key === "canvacord/rank") {
    const { RankCardBuilder, Font } = await import("canvacord");
    Font.loadDefault();
    return async (n) => {
      const d = cardData(cfg, n);
      return new RankCardBuilder()
        .setAvatar(cfg.avatar)
        .setBackground(cfg.background)
        .setDisplayName(d.name)
        .setUsername(`@${d.name.toLowerCase()}`)
        .setLevel(d.level)
        .setCurrentXP(d.xp)
        .setRequiredXP(d.required)
        .setRank(d.rank)
        .build({ format: "png" });
    };
  }
  if (key === "canvacord/welcome") {
    const { Builder, JSX, Font, loadImage } = await import("canvacord");
    Font.loadDefault();
    class WelcomeCard extends Builder {
      constructor() {
        super(1024, 400);
        this.bootstrap({ avatar: "", background: "", greeting: "Welcome", name: "" });
      }
      setAvatar(image) {
        this.options.set("avatar", image);
        return this;
      }
      setBackground(image) {
        this.options.set("background", image);
        return this;
      }
      setDisplayName(name) {
        this.options.set("name", name);
        return this;
      }
      async render() {
        const o = this.options.getOptions();
        const [avatar, background] = await Promise.all([loadImage(o.avatar), loadImage(o.background)]);
        const fill = { position: "absolute", top: 0, left: 0, width: 1024, height: 400 };
        const line = (size, color) => ({
          display: "flex",
          fontSize: size,
          fontWeight: 700,
          color,
          textShadow: "2px 2px 0 rgba(0,0,0,0.6)",
        });
        return JSX.createElement(
          "div",
          {
            style: {
              display: "flex",
              position: "relative",
              width: 1024,
              height: 400,
              borderRadius: 24,
              overflow: "hidden",
              backgroundColor: "#23272a",
            },
          },
          JSX.createElement("img", { src: background.toDataURL(), style: { ...fill, objectFit: "cover" } }),
          JSX.createElement("div", { style: { ...fill, display: "flex", backgroundColor: "rgba(0,0,0,0.45)" } }),
          JSX.createElement(
            "div",
            { style: { ...fill, display: "flex", flexDirection: "column", alignItems: "center", paddingTop: 26 } },
            JSX.createElement("img", {
              src: avatar.toDataURL(),
              style: { width: 172, height: 172, borderRadius: 86, border: "6px solid #64C8FF" },
            }),
            JSX.createElement("div", { style: { ...line(52, "#FFFFFF"), marginTop: 8 } }, o.greeting),
            JSX.createElement("div", { style: line(38, "#64C8FF") }, o.name),
          ),
        );
      }
    }
    return async (n) =>
      new WelcomeCard()
        .setAvatar(cfg.avatar)
        .setBackground(cfg.background)
        .setDisplayName(cardData(cfg, n).name)
        .build({ format: "png" });
  }
  if (key === "discord-arts/rank") {
    // The one stub: discord-arts' fetch of the Discord user from its web API, replaced by local data
    // (see the top of this file). The avatar copy named "<avatar>?size=512" is what loadImage reads.
    const sized = `${cfg.avatar}?size=512`;
    if (isMainThread && !existsSync(sized)) copyFileSync(cfg.avatar, sized);
    const fetchUtils = require("discord-arts/dist/core/services/fetch.utils");
    fetchUtils.fetchUserData = async (userId) => ({
      basicInfo: {
        id: userId,
        username: `member${userId}`,
        globalName: null,
        discriminator: "0",
        bot: false,
        verified: false,
        createdTimestamp: 1_600_000_000_000,
      },
      assets: { avatarURL: cfg.avatar, defaultAvatarURL: cfg.avatar, bannerURL: null, badges: [] },
      decoration: { avatarFrame: null, profileColors: null },
    });
    const { Profile } = require("discord-arts");
    return async (n) => {
      const d = cardData(cfg, n);
      return Profile(String(100_000_000_000_000_000n + BigInt(n)), {
        customUsername: d.name,
        customBackground: cfg.background,
        rankData: { currentXp: d.xp, requiredXp: d.required, level: d.level, rank: d.rank, barColor: "#64C8FF" },
      });
    };
  }
  throw new Error(`unknown peer/card ${key}`);
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png) {
  if (png.length < 24 || png.toString("latin1", 1, 4) !== "PNG") throw new Error("not a PNG");
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

/** Renders cards `next()` returns until it returns null; latencies (ms), PNG sizes, errors. */
async function loop(render, next, out) {
  for (let n = next(); n !== null; n = next()) {
    const started = performance.now();
    try {
      const png = await render(n);
      out.latencies.push(performance.now() - started);
      out.bytes.push(png.length);
    } catch (err) {
      out.errors += 1;
      out.error ??= String(err?.stack ?? err);
    }
  }
  return out;
}

const result = () => ({ latencies: [], bytes: [], errors: 0, error: null });

function median(values) {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `clients` worker threads sharing one counter; resolves when all are done. */
async function inWorkers(cfg, first, count) {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const workers = [];
  for (let i = 0; i < cfg.clients; i += 1) {
    workers.push(new Worker(new URL(import.meta.url), { workerData: { cfg, counter, first, count } }));
  }
  // Each worker loads the library and renders one card before it says it is ready.
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve, reject) => {
          w.once("message", resolve);
          w.once("error", reject);
        }),
    ),
  );
  const cpu = process.cpuUsage();
  const started = performance.now();
  const outs = await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve, reject) => {
          w.once("message", resolve);
          w.once("error", reject);
          w.postMessage("go");
        }),
    ),
  );
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await Promise.all(workers.map((w) => w.terminate()));
  return { outs, elapsed, used };
}

async function worker() {
  const { cfg, counter, first, count } = workerData;
  const render = await renderer(cfg);
  await render(first + count + 1_000_000); // a warm-up card of its own, not counted
  parentPort.postMessage("ready");
  await new Promise((resolve) => parentPort.once("message", resolve));
  const next = () => {
    const i = Atomics.add(counter, 0, 1);
    return i < count ? first + i : null;
  };
  parentPort.postMessage(await loop(render, next, result()));
}

async function main() {
  const cfg = JSON.parse(process.argv[2] ?? "{}");
  for (const field of ["peer", "card", "avatar", "background", "cards", "clients"]) {
    if (cfg[field] === undefined) throw new Error(`config needs ${field}`);
  }
  cfg.warmup ??= 5;
  cfg.mode ??= "async";
  cfg.prefix ??= "";
  if (cfg.peer === "discord-arts") process.chdir(dirname(require.resolve("discord-arts/package.json")));

  const render = await renderer(cfg);
  let n = 0;
  let size = null;
  for (; n < Math.max(cfg.warmup, 1); n += 1) {
    const png = await render(n);
    size ??= pngSize(png);
    if (n === 0 && cfg.sample) writeFileSync(cfg.sample, png);
  }

  // One client, one card after the other.
  const cpuSerial = process.cpuUsage();
  const serialFirst = n;
  const serial = await loop(render, () => (n < serialFirst + cfg.cards ? n++ : null), result());
  const serialCpu = process.cpuUsage(cpuSerial);

  // `clients` concurrent clients.
  const concurrentFirst = n;
  let concurrent;
  let elapsed;
  let concurrentCpu;
  if (cfg.mode === "workers") {
    const run = await inWorkers(cfg, concurrentFirst, cfg.cards);
    concurrent = run.outs.reduce(
      (all, o) => ({
        latencies: all.latencies.concat(o.latencies),
        bytes: all.bytes.concat(o.bytes),
        errors: all.errors + o.errors,
        error: all.error ?? o.error,
      }),
      result(),
    );
    elapsed = run.elapsed;
    concurrentCpu = run.used;
  } else if (cfg.mode === "async") {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const next = () => (n < concurrentFirst + cfg.cards ? n++ : null);
    concurrent = result();
    await Promise.all(Array.from({ length: cfg.clients }, () => loop(render, next, concurrent)));
    elapsed = performance.now() - started;
    concurrentCpu = process.cpuUsage(cpu);
  } else {
    throw new Error(`unknown mode ${cfg.mode}`);
  }

  const rendered = serial.latencies.length + concurrent.latencies.length;
  const cpuMicros = serialCpu.user + serialCpu.system + concurrentCpu.user + concurrentCpu.system;
  const bytes = serial.bytes.concat(concurrent.bytes);
  const [width, height] = size;
  const error = serial.error ?? concurrent.error;
  if (error) process.stderr.write(`${cfg.peer} ${cfg.card}: ${error}\n`);
  process.stdout.write(
    `${JSON.stringify({
      peer: cfg.peer,
      card: cfg.card,
      mode: cfg.mode,
      clients: cfg.clients,
      width,
      height,
      cards: rendered,
      errors: serial.errors + concurrent.errors,
      cpu_ms_per_card: rendered ? cpuMicros / 1000 / rendered : 0,
      p50_ms: median(serial.latencies),
      per_second: elapsed > 0 ? (concurrent.latencies.length * 1000) / elapsed : 0,
      peak_rss_mb: process.resourceUsage().maxRSS / 1024,
      png_bytes: bytes.length ? bytes.reduce((a, b) => a + b, 0) / bytes.length : 0,
    })}\n`,
  );
}

if (isMainThread) {
  main().catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  });
} else {
  // A failure here reaches the main thread as the worker's "error" event.
  await worker();
}
