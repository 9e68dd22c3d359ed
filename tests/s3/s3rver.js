// tests/s3/s3rver.js DIR BUCKET...: @20minutes/s3rver (checks SigV4 signatures;
// keys S3RVER / S3RVER) on 127.0.0.1:<random port> with the buckets made,
// data in DIR/data; writes DIR/s3rver.port once listening. Runs until killed.
const path = require('path');
const fs = require('fs');
const S3rver = require(path.join(__dirname, 'npm', 'node_modules', '@20minutes', 's3rver'));
const dir = process.argv[2];
const buckets = process.argv.slice(3).map((name) => ({ name, configs: [] }));
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: path.join(dir, 'data'),
  silent: !process.env.S3RVER_LOG,
  configureBuckets: buckets,
});
server.run().then(({ port }) => {
  fs.writeFileSync(path.join(dir, 's3rver.port.tmp'), `${port}\n`);
  fs.renameSync(path.join(dir, 's3rver.port.tmp'), path.join(dir, 's3rver.port'));
});
