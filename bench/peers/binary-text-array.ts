/**
 * An array in Postgres's binary format whose elements are sent as their bytes (text: 25, json:
 * 114): node-postgres passes a Buffer parameter as is, so nothing is escaped or encoded again.
 */
export function binaryTextArray(items: Buffer[], oid = 25): Buffer {
  const header = Buffer.alloc(20);
  header.writeInt32BE(1, 0); // dimensions
  header.writeInt32BE(0, 4); // no nulls
  header.writeUInt32BE(oid, 8); // element type
  header.writeInt32BE(items.length, 12);
  header.writeInt32BE(1, 16); // lower bound
  return Buffer.concat([
    header,
    ...items.flatMap((item) => {
      const length = Buffer.alloc(4);
      length.writeInt32BE(item.length);
      return [length, item];
    }),
  ]);
}
