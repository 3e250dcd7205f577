// Runs infra/edge/playback_check.js in Node as CloudFront would, for tests/unit/test_edge_function.py.
// stdin: {"source": path, "store": {key: value}, "cases": [{"uri": ..., "now": epoch seconds,
// "country": optional CloudFront-Viewer-Country value}]};
// stdout: one result per case: {"uri": rewritten} when the request goes on, or the response; with
// "log": the lines the function logged (console.log, CloudWatch Logs on AWS) when it logged any.
// With "repeat": n, every case is then run n times more and stderr gets the median nanoseconds
// per call of each case (benchmarks/edge_check.py).
// The `cloudfront` module is shimmed: `cf.kvs()` reads `store`, with the documented behaviour
// (get() rejects for a missing key; exists() resolves to a boolean).
'use strict';
const fs = require('fs');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));
const store = input.store;
const cloudfront = {
    kvs() {
        return {
            async get(key) {
                if (!Object.prototype.hasOwnProperty.call(store, key)) {
                    throw new Error('KeyNotFound');
                }
                return store[key];
            },
            async exists(key) {
                return Object.prototype.hasOwnProperty.call(store, key);
            },
        };
    },
};
const source = fs.readFileSync(input.source, 'utf8');
const importLine = "import cf from 'cloudfront';";
if (!source.includes(importLine)) {
    throw new Error('the function no longer imports the cloudfront module as documented');
}
let logged = [];
const console = { log: (line) => logged.push(String(line)) };
const handler = new Function('cf', 'require', 'console', source.replace(importLine, '') + '\nreturn handler;')(
    cloudfront, require, console);

function headers(c) {
    return c.country === undefined ? {} : { 'cloudfront-viewer-country': { value: c.country } };
}

(async () => {
    const results = [];
    const realNow = Date.now;
    for (const c of input.cases) {
        Date.now = () => c.now * 1000;
        const event = { version: '1.0', context: { eventType: 'viewer-request' }, viewer: { ip: '192.0.2.1' },
            request: { method: 'GET', uri: c.uri, querystring: {}, headers: headers(c), cookies: {} } };
        logged = [];
        const out = await handler(event);
        const result = out.statusCode === undefined ? { uri: out.uri } : out;
        if (logged.length > 0) {
            result.log = logged;
        }
        results.push(result);
    }
    if (input.repeat) {
        const medians = [];
        for (const c of input.cases) {
            Date.now = () => c.now * 1000;
            const event = { request: { method: 'GET', uri: c.uri, querystring: {}, headers: headers(c), cookies: {} } };
            const times = [];
            for (let i = 0; i < input.repeat; i++) {
                event.request.uri = c.uri;
                const start = process.hrtime.bigint();
                await handler(event);
                times.push(Number(process.hrtime.bigint() - start));
            }
            times.sort((a, b) => a - b);
            medians.push(times[Math.floor(times.length / 2)]);
        }
        process.stderr.write(JSON.stringify(medians));
    }
    Date.now = realNow;
    process.stdout.write(JSON.stringify(results));
})().catch((error) => {
    process.stderr.write(String(error && error.stack || error));
    process.exit(1);
});
