// The page's data tables: a header row from a list of column names (a plain name for a text
// column, `#name` for a right-aligned numeric one, whose cells carry className="num"), and the
// scrolling wrapper, caption and body around the rows.
import type { ReactNode } from 'react';

interface DataTableProps {
  testId: string;
  /** Classes besides "data-table". */
  className?: string;
  /** Classes besides "table-wrap" on the scrolling wrapper. */
  wrapClassName?: string;
  caption: ReactNode;
  /** The columns (or `head`, a header of its own). */
  cols?: readonly Column[];
  head?: ReactNode;
  /** More attributes for the tests (data-*). */
  data?: Record<string, string | number>;
  children: ReactNode;
}

export function DataTable({ testId, className, wrapClassName, caption, cols, head, data, children }: DataTableProps) {
  return (
    <div className={wrapClassName ? `table-wrap ${wrapClassName}` : 'table-wrap'}>
      <table className={className ? `data-table ${className}` : 'data-table'} data-testid={testId} {...data}>
        <caption>{caption}</caption>
        {cols ? <Head cols={cols} /> : head}
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export type Column = string | { num: ReactNode };

export function Head({ cols }: { cols: readonly Column[] }) {
  return (
    <thead>
      <tr>
        <HeadCells cols={cols} />
      </tr>
    </thead>
  );
}

/** The header cells alone, for a header of several rows. */
export function HeadCells({ cols }: { cols: readonly Column[] }) {
  return (
    <>
      {cols.map((c, i) =>
          typeof c === 'string' ? (
            c.startsWith('#') && c.length > 1 ? (
              <th key={i} scope="col" className="num">
                {c.slice(1)}
              </th>
            ) : (
              <th key={i} scope="col">
                {c}
              </th>
            )
          ) : (
            <th key={i} scope="col" className="num">
              {c.num}
            </th>
          ),
      )}
    </>
  );
}
