// Control-API replies checked against the message types published in proto/.
import type { ExecutionContext } from 'ava';
import type protobuf from 'protobufjs';
import { loadProto } from '../../agent/src/audit/records.js';

const root = loadProto('altrace/v1/control.proto');

/** Field-by-field: every key is a field of the type, of the right kind; null stands for absent. */
export function mismatches(typeName: string, value: unknown, path = typeName): string[] {
  const type = root.lookupType(typeName);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path} is not an object`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const field = type.fields[k] as protobuf.Field | undefined;
    if (!field) {
      out.push(`${path}.${k} is not in ${typeName}`);
      continue;
    }
    if (v === null) continue;
    field.resolve();
    const check = (x: unknown, p: string) => {
      if (field.resolvedType && 'fields' in field.resolvedType) out.push(...mismatches(field.resolvedType.fullName.slice(1), x, p));
      else if (field.type === 'string' && typeof x !== 'string') out.push(`${p} should be a string`);
      else if (['double', 'uint32', 'uint64', 'int64'].includes(field.type) && typeof x !== 'number') out.push(`${p} should be a number`);
      else if (field.type === 'bool' && typeof x !== 'boolean') out.push(`${p} should be a boolean`);
    };
    if (field.map) for (const [mk, mv] of Object.entries(v as object)) check(mv, `${path}.${k}.${mk}`);
    else if (field.repeated) {
      if (!Array.isArray(v)) out.push(`${path}.${k} should be a list`);
      else v.forEach((x, i) => check(x, `${path}.${k}[${i}]`));
    } else check(v, `${path}.${k}`);
  }
  return out;
}

/** Asserts a control-API reply is the named message of proto/altrace/v1/control.proto, and returns its body. */
export async function conforms(t: ExecutionContext, typeName: string, res: Response): Promise<any> {
  const body = await res.json();
  t.deepEqual(mismatches(`altrace.v1.${typeName}`, body), [], `${typeName}: ${JSON.stringify(body).slice(0, 300)}`);
  return body;
}
