// dynamodb_sdk_loader.js: the baseline of bench/dynamodb.sh, a plain loader
// written with the AWS SDK for JavaScript v3: create the table, read the
// export's data files (manifest-files.json, gunzip, one {"Item": ...} a
// line), BatchWriteItem 25 items a request with CONCURRENCY requests in
// flight, UnprocessedItems sent again with backoff. Prints one JSON line:
// {"items": N, "load_seconds": S}.
//   node dynamodb_sdk_loader.js ENDPOINT TABLE EXPORT_DIR [CONCURRENCY]
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const zlib = require('zlib');
const {
    DynamoDBClient, CreateTableCommand, BatchWriteItemCommand,
} = require('@aws-sdk/client-dynamodb');

const [endpoint, table, dir, conc] = process.argv.slice(2);
const concurrency = parseInt(conc || '8', 10);
const client = new DynamoDBClient({
    endpoint, region: 'us-east-1', maxAttempts: 10,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function send(requests) {
    let backoff = 50;
    let req = { [table]: requests };
    for (;;) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: req }));
        const left = out.UnprocessedItems && out.UnprocessedItems[table];
        if (!left || left.length === 0) return;
        req = { [table]: left };
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 2000);
    }
}

async function main() {
    await client.send(new CreateTableCommand({
        TableName: table, BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'N' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    }));
    const t0 = process.hrtime.bigint();
    const files = fs.readFileSync(path.join(dir, 'manifest-files.json'), 'utf8')
        .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).dataFileS3Key);
    const inflight = new Set();
    let items = 0;
    let batch = [];
    const flush = async () => {
        const p = send(batch).then(() => inflight.delete(p));
        inflight.add(p);
        batch = [];
        if (inflight.size >= concurrency) await Promise.race(inflight);
    };
    for (const key of files) {
        const rel = key.slice(key.indexOf('/data/') + 1);
        const rl = readline.createInterface({
            input: fs.createReadStream(path.join(dir, rel)).pipe(zlib.createGunzip()),
            crlfDelay: Infinity,
        });
        for await (const line of rl) {
            if (!line.trim()) continue;
            batch.push({ PutRequest: { Item: JSON.parse(line).Item } });
            items++;
            if (batch.length === 25) await flush();
        }
    }
    if (batch.length) await flush();
    await Promise.all(inflight);
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ items, load_seconds: secs }));
}

main().catch((e) => { console.error(e); process.exit(1); });
